"""Name resolution the way PostgreSQL does it: which CTE a table name means at each point of a
statement, which sources a column can see there, and which output columns each source has.

A rule that asks "is there a CTE with this name anywhere" lets `FROM (WITH pg_class AS (...)
SELECT 1) s, pg_class` read the real catalog; a rule that trusts `alias.name` to be a column lets
PostgreSQL's attribute notation run `json_agg(alias)`. Both need to know what a name means where it
stands, which is what this module answers.

Visibility of non-recursive CTEs (PostgreSQL): a CTE is visible in the query that owns its WITH
(and everything nested in it, unless an inner WITH redefines the name) and in the bodies of the
CTEs defined *after* it in the same WITH; not in its own body, not in earlier siblings, not
outside the owning query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from guardrails.names import VIEW_NAME, VIEW_SCHEMA, normalized

_SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)
_QUERIES = (exp.Select, *_SET_OPERATIONS)
_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\(")
UNNAMED = "?column?"


@dataclass(frozen=True)
class Source:
    """Something a FROM or JOIN makes visible: the name it is qualified by and its output columns."""

    name: str | None
    columns: frozenset[str]
    node: exp.Expression


class Resolver:
    """Answers name questions about one statement; results are cached per node."""

    def __init__(self, view_columns: Iterable[str]) -> None:
        self.view_columns = frozenset(view_columns)
        self._ctes: dict[int, exp.CTE | None] = {}
        self._outputs: dict[int, tuple[str, ...]] = {}
        self._sources: dict[int, list[Source]] = {}

    # -- relations -------------------------------------------------------------------------------

    def cte_for(self, table: exp.Table) -> exp.CTE | None:
        """The CTE this table reference means at its position, or None for a real relation."""
        key = id(table)
        if key not in self._ctes:
            self._ctes[key] = self._find_cte(table)
        return self._ctes[key]

    def _find_cte(self, table: exp.Table) -> exp.CTE | None:
        if table.args.get("db") is not None or table.args.get("catalog") is not None:
            return None  # a qualified name is never a CTE
        name = normalized(table.args.get("this"))
        if name is None:
            return None
        child: exp.Expression = table
        node = table.parent
        while node is not None:
            if isinstance(node, exp.With):
                # We are inside one CTE of this WITH: only the siblings before it are visible.
                for cte in node.expressions:
                    if cte is child:
                        break
                    if _cte_name(cte) == name:
                        found = cte
                        # A later sibling of the same name cannot exist (PostgreSQL refuses
                        # duplicate names), so the first match before us is the one.
                        return found
            elif isinstance(node, _QUERIES):
                with_ = node.args.get("with_")
                if isinstance(with_, exp.With) and with_ is not child:
                    for cte in with_.expressions:
                        if _cte_name(cte) == name:
                            return cte
            child, node = node, node.parent
        return None

    def is_view(self, table: exp.Table) -> bool:
        """Does this reference mean nlq.pfa_merged (and not a CTE of that name)?"""
        name = normalized(table.args.get("this"))
        if table.args.get("catalog") is not None or name != VIEW_NAME:
            return False
        schema = table.args.get("db")
        if schema is not None:
            return normalized(schema) == VIEW_SCHEMA
        return self.cte_for(table) is None

    # -- output columns --------------------------------------------------------------------------

    def outputs(self, query: exp.Expression) -> tuple[str, ...]:
        """Output column names of a query, as PostgreSQL names them (normalized)."""
        key = id(query)
        if key not in self._outputs:
            self._outputs[key] = ()  # a cycle (impossible without RECURSIVE) ends empty
            self._outputs[key] = self._compute_outputs(query)
        return self._outputs[key]

    def _compute_outputs(self, query: exp.Expression) -> tuple[str, ...]:
        while isinstance(query, (exp.Subquery, exp.Paren)):
            query = query.this
        if isinstance(query, _SET_OPERATIONS):
            return self.outputs(query.this)
        if not isinstance(query, exp.Select):
            return ()
        names: list[str] = []
        for projection in query.expressions:
            names.extend(self._projection_names(query, projection))
        return tuple(names)

    def _projection_names(self, select: exp.Select, projection: exp.Expression) -> list[str]:
        if isinstance(projection, exp.Alias):
            return [normalized(projection.args.get("alias")) or UNNAMED]
        if isinstance(projection, exp.Star):
            return [c for source in self.sources_of(select) for c in self._ordered_columns(source)]
        if isinstance(projection, exp.Column):
            target = projection.args.get("this")
            if isinstance(target, exp.Star):
                qualifier = normalized(projection.args.get("table"))
                return [c for source in self.sources_of(select) if source.name == qualifier
                        for c in self._ordered_columns(source)]
            return [normalized(target) or UNNAMED]
        return [_figure_name(projection)]

    def _ordered_columns(self, source: Source) -> tuple[str, ...]:
        return tuple(sorted(source.columns))

    def cte_columns(self, cte: exp.CTE) -> frozenset[str]:
        alias = cte.args.get("alias")
        listed = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        if listed:
            return frozenset(normalized(c) for c in listed if normalized(c))
        return frozenset(self.outputs(cte.this))

    # -- sources ---------------------------------------------------------------------------------

    def sources_of(self, select: exp.Select) -> list[Source]:
        """What the FROM, JOINs and LATERALs of one SELECT make visible."""
        key = id(select)
        if key not in self._sources:
            items: list[exp.Expression] = []
            from_ = select.args.get("from_")
            if isinstance(from_, exp.From):
                items.append(from_.this)
            for join in select.args.get("joins") or ():
                items.append(join.this)
            items.extend(select.args.get("laterals") or ())
            self._sources[key] = [s for s in (self._source(item) for item in items) if s is not None]
        return self._sources[key]

    def _source(self, item: exp.Expression) -> Source | None:
        alias = item.args.get("alias") if isinstance(item, (exp.Table, exp.Subquery, exp.Lateral)) else None
        alias_name = normalized(alias.args.get("this")) if isinstance(alias, exp.TableAlias) else None
        listed = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        if isinstance(item, exp.Table):
            name = alias_name or normalized(item.args.get("this"))
            if self.is_view(item):
                columns = self.view_columns
            else:
                cte = self.cte_for(item)
                columns = self.cte_columns(cte) if cte is not None else frozenset()
        elif isinstance(item, exp.Lateral):
            inner = item.this
            inner_alias = inner.args.get("alias") if isinstance(inner, exp.Subquery) else None
            if alias_name is None and isinstance(inner_alias, exp.TableAlias):
                alias_name = normalized(inner_alias.args.get("this"))
                listed = listed or inner_alias.args.get("columns")
            name = alias_name
            columns = frozenset(self.outputs(inner))
        elif isinstance(item, exp.Subquery):
            name = alias_name
            columns = frozenset(self.outputs(item.this))
        else:
            return None  # VALUES, functions, ...: refused by other rules
        if listed:
            renamed = [normalized(c) for c in listed if normalized(c)]
            # A column list renames the first columns and keeps the rest.
            columns = frozenset(renamed) | (columns if len(renamed) < len(columns) else frozenset())
        return Source(name=name, columns=columns, node=item)

    def levels(self, node: exp.Expression) -> list[exp.Expression]:
        """The queries enclosing `node`, innermost first (SELECTs and set operations)."""
        found = []
        parent = node.parent
        while parent is not None:
            if isinstance(parent, _QUERIES):
                found.append(parent)
            parent = parent.parent
        return found


def _cte_name(cte: exp.Expression) -> str | None:
    alias = cte.args.get("alias")
    return normalized(alias.args.get("this")) if isinstance(alias, exp.TableAlias) else None


def _figure_name(node: exp.Expression) -> str:
    """PostgreSQL's name for an unaliased output expression (FigureColname), as far as it matters:
    a column keeps its name, a cast the name of what it casts, a function call the function's
    name as it will run; anything else is `?column?`."""
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Column) and isinstance(node.args.get("this"), exp.Identifier):
        return normalized(node.args["this"]) or UNNAMED
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Func):
        match = _CALL.match(node.sql(dialect="postgres"))
        if match:
            return match.group(1).lower()
    return UNNAMED
