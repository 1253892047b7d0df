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

Visibility of FROM items to a column: at its own query level, every item (a JOIN's ON clause
sees only the items joined so far); a LATERAL item sees the items before it; a derived table in
FROM sees nothing of its own level; a subquery in an expression sees its enclosing levels; a CTE
body sees nothing outside itself (stricter than PostgreSQL where it is unsure: a name this
module cannot place is refused, never guessed).
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
WEIGHT_CAP = 10**9
# Functions that build longer text from their arguments (see rules/bound_growth.py).
GROWTH_FUNCTIONS = (exp.Replace, exp.Concat, exp.ConcatWs, exp.DPipe, exp.GroupConcat)


@dataclass(frozen=True)
class Source:
    """Something a FROM or JOIN makes visible: the name it is qualified by, its output columns in
    order, and which of them were built by string functions ("grown")."""

    name: str | None
    ordered: tuple[str, ...]
    grown: frozenset[str]
    node: exp.Expression

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.ordered)


class Resolver:
    """Answers name questions about one statement; results are cached per node."""

    def __init__(self, view_columns: Iterable[str]) -> None:
        self.view_columns = tuple(view_columns)
        self._ctes: dict[int, exp.CTE | None] = {}
        self._outputs: dict[int, tuple[str, ...]] = {}
        self._grown: dict[int, frozenset[str]] = {}
        self._items: dict[int, list[Source]] = {}
        self._visible: dict[int, list[Source]] = {}
        self._weights: dict[tuple[int, str], int] = {}
        self._bases: dict[tuple[int, str], frozenset[str]] = {}

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
                # Inside one CTE of this WITH: only the siblings before it are visible.
                for cte in node.expressions:
                    if cte is child:
                        break
                    if _cte_name(cte) == name:
                        return cte
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
        """Output column names of a query, in order, as PostgreSQL names them (normalized)."""
        key = id(query)
        if key not in self._outputs:
            self._outputs[key] = ()  # a cycle (impossible without RECURSIVE) ends empty
            self._outputs[key] = self._compute_outputs(query)
        return self._outputs[key]

    def _compute_outputs(self, query: exp.Expression) -> tuple[str, ...]:
        query = _unwrap(query)
        if isinstance(query, _SET_OPERATIONS):
            return self.outputs(query.this)
        if not isinstance(query, exp.Select):
            return ()
        names: list[str] = []
        for projection in query.expressions:
            names.extend(name for name, _ in self._projection(query, projection))
        return tuple(names)

    def grown(self, query: exp.Expression) -> frozenset[str]:
        """Output names of a query whose values were built by string functions (at any depth)."""
        key = id(query)
        if key not in self._grown:
            self._grown[key] = frozenset()
            self._grown[key] = self._compute_grown(query)
        return self._grown[key]

    def _compute_grown(self, query: exp.Expression) -> frozenset[str]:
        query = _unwrap(query)
        if isinstance(query, _SET_OPERATIONS):
            names = self.outputs(query)
            found = set(self.grown(query.this))
            for branch in (query.this, query.expression):
                branch_names = self.outputs(branch)
                found |= {names[i] for i, n in enumerate(branch_names)
                          if i < len(names) and n in self.grown(branch)}
            return frozenset(found)
        if not isinstance(query, exp.Select):
            return frozenset()
        found: set[str] = set()
        for projection in query.expressions:
            for name, is_grown in self._projection(query, projection):
                if is_grown:
                    found.add(name)
        return frozenset(found)

    def _projection(self, select: exp.Select, projection: exp.Expression) -> list[tuple[str, bool]]:
        """(name, grown) for each output column one projection makes."""
        if isinstance(projection, exp.Star):
            return [(c, c in s.grown) for s in self.items_of(select) for c in s.ordered]
        if isinstance(projection, exp.Column) and isinstance(projection.args.get("this"), exp.Star):
            qualifier = normalized(projection.args.get("table"))
            return [(c, c in s.grown) for s in self.items_of(select) if s.name == qualifier for c in s.ordered]
        if isinstance(projection, exp.Alias):
            name = normalized(projection.args.get("alias")) or UNNAMED
        elif isinstance(projection, exp.Column):
            name = normalized(projection.args.get("this")) or UNNAMED
        else:
            name = _figure_name(projection)
        return [(name, self.builds_text(projection))]

    def builds_text(self, expression: exp.Expression) -> bool:
        """Does `expression` build text with string functions, or use a value that was built so?"""
        if isinstance(expression, GROWTH_FUNCTIONS) or expression.find(*GROWTH_FUNCTIONS) is not None:
            return True
        return self.uses_grown(expression)

    def uses_grown(self, expression: exp.Expression) -> bool:
        """Does `expression` read a column that a CTE or derived table built with string functions?"""
        columns = [expression] if isinstance(expression, exp.Column) else expression.find_all(exp.Column)
        for column in columns:
            target = column.args.get("this")
            if not isinstance(target, exp.Identifier):
                continue
            wanted = normalized(target)
            qualifier = normalized(column.args.get("table"))
            for source in self.visible_sources(column):
                if (qualifier is None or source.name == qualifier) and wanted in source.grown:
                    return True
        return False

    # -- what a column stands for ------------------------------------------------------------------

    def weight(self, expression: exp.Expression) -> int:
        """Nodes of `expression` with every CTE / derived-table column replaced by the expression
        that defines it (what the planner builds when it inlines them), capped at WEIGHT_CAP."""
        total = 0
        for node in expression.walk():
            total += self.column_weight(node) if isinstance(node, exp.Column) else 1
            if total >= WEIGHT_CAP:
                return WEIGHT_CAP
        return total

    def column_weight(self, column: exp.Column) -> int:
        definition = self.definition(column)
        return 1 if definition is None else self._defined_weight(definition)

    def _defined_weight(self, definition: tuple[exp.Expression, str]) -> int:
        key = (id(definition[0]), definition[1])
        if key not in self._weights:
            self._weights[key] = 1  # a cycle (impossible without RECURSIVE) counts once
            expression = self._defining_expression(*definition)
            self._weights[key] = 1 if expression is None else self.weight(expression)
        return self._weights[key]

    def base_columns(self, expression: exp.Expression) -> frozenset[str]:
        """The view's columns an expression reads, through any CTEs and derived tables."""
        found: set[str] = set()
        for column in ([expression] if isinstance(expression, exp.Column) else expression.find_all(exp.Column)):
            definition = self.definition(column)
            if definition is None:
                target = column.args.get("this")
                if isinstance(target, exp.Identifier) and self._reads_view(column):
                    found.add(normalized(target))
                continue
            key = (id(definition[0]), definition[1])
            if key not in self._bases:
                self._bases[key] = frozenset()
                inner = self._defining_expression(*definition)
                self._bases[key] = frozenset() if inner is None else self.base_columns(inner)
            found |= self._bases[key]
        return frozenset(found)

    def _reads_view(self, column: exp.Column) -> bool:
        wanted = normalized(column.args.get("this"))
        qualifier = normalized(column.args.get("table"))
        return any((qualifier is None or s.name == qualifier) and wanted in s.columns and isinstance(s.node, exp.Table)
                   and self.is_view(s.node) for s in self.visible_sources(column))

    def definition(self, column: exp.Column) -> tuple[exp.Expression, str] | None:
        """(query, output name) of the CTE or derived table a column reads, or None for the view."""
        target = column.args.get("this")
        if not isinstance(target, exp.Identifier):
            return None
        wanted = normalized(target)
        qualifier = normalized(column.args.get("table"))
        for source in self.visible_sources(column):
            if (qualifier is None or source.name == qualifier) and wanted in source.columns:
                return self._source_query(source, wanted)
        return None

    def defining_expression(self, column: exp.Column) -> exp.Expression | None:
        """The projection that makes the CTE or derived-table column `column` reads (an alias
        included), or None when it reads the view itself or names nothing this module can place.
        Lets a caller follow a value back to the view's column it was taken from."""
        definition = self.definition(column)
        return None if definition is None else self._defining_expression(*definition)

    def _source_query(self, source: Source, name: str) -> tuple[exp.Expression, str] | None:
        node = source.node
        if isinstance(node, exp.Table):
            cte = self.cte_for(node)
            if cte is None:
                return None  # the view: a stored column
            query, listed = cte.this, _listed(cte.args.get("alias"))
        else:
            query = node.this
            listed = _listed(node.args.get("alias"))
            if isinstance(node, exp.Lateral) and isinstance(query, exp.Subquery) and not listed:
                listed = _listed(query.args.get("alias"))
        outputs = self.outputs(query)
        if listed and name in listed:
            index = listed.index(name)
            name = outputs[index] if index < len(outputs) else name
        return query, name

    def _defining_expression(self, query: exp.Expression, name: str) -> exp.Expression | None:
        """The projection of `query` that makes output column `name` (through stars, into sources)."""
        query = _unwrap(query)
        if isinstance(query, _SET_OPERATIONS):
            return query.this  # the left branch names the columns; weigh the whole left branch
        if not isinstance(query, exp.Select):
            return None
        for projection in query.expressions:
            if isinstance(projection, exp.Star) or (
                    isinstance(projection, exp.Column) and isinstance(projection.args.get("this"), exp.Star)):
                for item in self.items_of(query):
                    if name in item.columns:
                        inner = self._source_query(item, name)
                        return None if inner is None else self._defining_expression(*inner)
                continue
            if any(n == name for n, _ in self._projection(query, projection)):
                return projection
        return None

    # -- sources ---------------------------------------------------------------------------------

    def items_of(self, select: exp.Select) -> list[Source]:
        """What the FROM, JOINs and LATERALs of one SELECT make visible, in order."""
        key = id(select)
        if key not in self._items:
            self._items[key] = [s for s in (self._source(item) for item in _from_items(select)) if s is not None]
        return self._items[key]

    def _source(self, item: exp.Expression) -> Source | None:
        alias = item.args.get("alias") if isinstance(item, (exp.Table, exp.Subquery, exp.Lateral)) else None
        alias_name = normalized(alias.args.get("this")) if isinstance(alias, exp.TableAlias) else None
        listed = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        grown: frozenset[str] = frozenset()
        if isinstance(item, exp.Table):
            name = alias_name or normalized(item.args.get("this"))
            if self.is_view(item):
                ordered = self.view_columns
            else:
                cte = self.cte_for(item)
                ordered, grown = self._cte_columns(cte) if cte is not None else ((), frozenset())
        elif isinstance(item, (exp.Lateral, exp.Subquery)):
            inner = item.this
            if isinstance(item, exp.Lateral) and isinstance(inner, exp.Subquery):
                inner_alias = inner.args.get("alias")
                if alias_name is None and isinstance(inner_alias, exp.TableAlias):
                    alias_name = normalized(inner_alias.args.get("this"))
                    listed = listed or inner_alias.args.get("columns")
            name = alias_name
            ordered, grown = self.outputs(inner), self.grown(inner)
        else:
            return None  # VALUES, functions, ...: refused by other rules
        if listed:
            ordered, grown = _renamed(ordered, grown, [normalized(c) or UNNAMED for c in listed])
        return Source(name=name, ordered=tuple(ordered), grown=grown, node=item)

    def _cte_columns(self, cte: exp.CTE) -> tuple[tuple[str, ...], frozenset[str]]:
        ordered, grown = self.outputs(cte.this), self.grown(cte.this)
        alias = cte.args.get("alias")
        listed = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
        if listed:
            return _renamed(ordered, grown, [normalized(c) or UNNAMED for c in listed])
        return ordered, grown

    def visible_sources(self, column: exp.Expression) -> list[Source]:
        """The FROM items a column can refer to where it stands, innermost level first."""
        key = id(column)
        if key in self._visible:
            return self._visible[key]
        found: list[Source] = []
        path: list[exp.Expression] = [column]
        node = column.parent
        while node is not None:
            if isinstance(node, exp.CTE):
                break  # a CTE body sees nothing outside itself
            if isinstance(node, exp.Select):
                found.extend(self._visible_at(node, path))
            path.append(node)
            node = node.parent
        self._visible[key] = found
        return found

    def _visible_at(self, select: exp.Select, path: list[exp.Expression]) -> list[Source]:
        """Items of `select` visible from the end of `path` (the nodes walked up from the column)."""
        child = path[-1]
        items = self.items_of(select)
        if isinstance(child, exp.From):
            return []  # the first FROM item (derived or LATERAL) sees nothing of its own level
        joins = select.args.get("joins") or []
        for k, join in enumerate(joins):
            if child is join:
                came_through_item = len(path) >= 2 and path[-2] is join.this
                if came_through_item:
                    # A derived table sees nothing of its level; a LATERAL one the items before it.
                    return self._sources_before(select, join.this) if isinstance(join.this, exp.Lateral) else []
                return self._join_tree(select, k)  # ON / USING: the items of this join tree so far
        if child in (select.args.get("laterals") or []):
            return self._sources_before(select, child)
        return items

    def _join_tree(self, select: exp.Select, k: int) -> list[Source]:
        """Items an ON clause of join `k` sees: those of its own join tree, i.e. back to the
        nearest comma (`FROM a, b JOIN c ON ...`: the ON sees b and c, not a)."""
        joins = select.args.get("joins") or []
        from_ = select.args.get("from_")
        items = ([from_.this] if isinstance(from_, exp.From) else []) + [join.this for join in joins]
        offset = 1 if isinstance(from_, exp.From) else 0  # joins[j].this is items[j + offset]
        start = 0
        for j in range(k, -1, -1):
            if _is_comma(joins[j]):
                start = j + offset
                break
        nodes = {id(n) for n in items[start: k + offset + 1]}
        return [s for s in self.items_of(select) if id(s.node) in nodes]

    def _sources_before(self, select: exp.Select, item: exp.Expression, inclusive: bool = False) -> list[Source]:
        result = []
        for source in self.items_of(select):
            if source.node is item:
                if inclusive:
                    result.append(source)
                break
            result.append(source)
        return result

    def levels(self, node: exp.Expression) -> list[exp.Expression]:
        """The queries enclosing `node`, innermost first (SELECTs and set operations)."""
        found = []
        parent = node.parent
        while parent is not None:
            if isinstance(parent, _QUERIES):
                found.append(parent)
            parent = parent.parent
        return found


def _listed(alias: exp.Expression | None) -> list[str]:
    columns = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
    return [normalized(c) or UNNAMED for c in columns or ()]


def _is_comma(join: exp.Join) -> bool:
    """`FROM a, b` is a Join without kind, side, method, ON or USING."""
    return not any(join.args.get(k) for k in ("kind", "side", "method", "on", "using"))


def _unwrap(query: exp.Expression) -> exp.Expression:
    while isinstance(query, (exp.Subquery, exp.Paren)):
        query = query.this
    return query


def _from_items(select: exp.Select) -> list[exp.Expression]:
    items: list[exp.Expression] = []
    from_ = select.args.get("from_")
    if isinstance(from_, exp.From):
        items.append(from_.this)
    for join in select.args.get("joins") or ():
        items.append(join.this)
    items.extend(select.args.get("laterals") or ())
    return items


def _renamed(ordered: tuple[str, ...], grown: frozenset[str], names: list[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """A column list renames the first columns, in order, and keeps the rest: `s(x)` over
    `(json_agg, data)` has the columns (x, data); `json_agg` no longer exists."""
    renamed = list(names) + list(ordered[len(names):])
    kept_grown = {renamed[i] for i, old in enumerate(ordered) if i < len(renamed) and old in grown}
    return tuple(renamed), frozenset(kept_grown)


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
