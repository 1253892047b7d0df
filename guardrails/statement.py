"""Parsing a statement once and indexing its nodes, so every rule reads the same tree."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails.errors import MultipleStatements, NotAQuery, ParseFailure
from guardrails.names import VIEW_NAME, VIEW_SCHEMA, normalized
from guardrails.resolve import Resolver

# sqlglot warns (with the SQL text) each time it falls back to an opaque Command; we refuse
# those with a reason of our own, so the warning is only noise in the service log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

__all__ = ["Statement", "parse_statement", "VIEW_NAME", "VIEW_SCHEMA", "normalized"]  # re-exported: the rules import them from here


@dataclass
class Statement:
    """A parsed statement and an index of its nodes by type (one walk, shared by all rules)."""

    sql: str
    ast: exp.Expression
    org_id: str = ""
    nodes: list[exp.Expression] = field(default_factory=list)
    by_type: dict[type, list[exp.Expression]] = field(default_factory=lambda: defaultdict(list))
    cte_names: set[str] = field(default_factory=set)
    resolver: Resolver | None = None
    hidden: frozenset[str] = frozenset()  # view columns the column policy hides (already folded)
    hidden_why: str = ""

    def of(self, *types: type) -> list[exp.Expression]:
        found: list[exp.Expression] = []
        for t in types:
            found.extend(self.by_type.get(t, ()))
        return found

    def is_view(self, table: exp.Table) -> bool:
        """Does this table reference resolve to nlq.pfa_merged (and not to a CTE visible there)?"""
        return self.resolver.is_view(table)


def parse_statement(sql: str, org_id: str = "", view_columns: Iterable[str] = ()) -> Statement:
    """Parse exactly one PostgreSQL statement; refuse anything sqlglot cannot read fully.

    `view_columns` are the output columns of the view, used to resolve qualified names.
    """
    try:
        parsed = [e for e in sqlglot.parse(sql, read="postgres") if e is not None]
    except SqlglotError as exc:
        raise ParseFailure(f"could not parse the statement: {_first_line(str(exc))}") from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise ParseFailure(f"could not parse the statement: {type(exc).__name__}") from None
    if not parsed:
        raise ParseFailure("the statement is empty")
    if len(parsed) > 1:
        raise MultipleStatements(f"found {len(parsed)} statements; send exactly one SELECT")
    ast = parsed[0]
    while isinstance(ast, (exp.Subquery, exp.Paren)) and not ast.args.get("alias") and isinstance(
        ast.this, (exp.Query, exp.Subquery, exp.Paren)
    ):
        ast = ast.this  # "(SELECT ...)" at top level is still just a query
    if isinstance(ast, exp.Command):
        raise NotAQuery(f"{ast.name.upper() or 'this command'} is not a query; only SELECT is allowed")
    statement = Statement(sql=sql, ast=ast, org_id=org_id, resolver=Resolver(view_columns))
    for node in ast.walk():
        statement.nodes.append(node)
        statement.by_type[type(node)].append(node)
    statement.cte_names = {normalized(cte.args["alias"].this) for cte in statement.of(exp.CTE) if cte.args.get("alias")}
    return statement


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "syntax error"
