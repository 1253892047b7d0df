"""Parsing a statement once and indexing its nodes, so every rule reads the same tree."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails.errors import MultipleStatements, NotAQuery, ParseFailure

# sqlglot warns (with the SQL text) each time it falls back to an opaque Command; we refuse
# those with a reason of our own, so the warning is only noise in the service log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

VIEW_NAME = "pfa_merged"
VIEW_SCHEMA = "nlq"


def normalized(identifier: exp.Identifier | str | None) -> str | None:
    """The name PostgreSQL resolves: unquoted identifiers fold to lower case, quoted ones don't.

    >>> normalized(exp.to_identifier("PFA_MERGED")), normalized(exp.to_identifier("PFA_MERGED", quoted=True))
    ('pfa_merged', 'PFA_MERGED')
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return identifier.lower()
    if not isinstance(identifier, exp.Identifier):
        return None
    return identifier.this if identifier.quoted else identifier.this.lower()


@dataclass
class Statement:
    """A parsed statement and an index of its nodes by type (one walk, shared by all rules)."""

    sql: str
    ast: exp.Expression
    org_id: str = ""
    nodes: list[exp.Expression] = field(default_factory=list)
    by_type: dict[type, list[exp.Expression]] = field(default_factory=lambda: defaultdict(list))
    cte_names: set[str] = field(default_factory=set)

    def of(self, *types: type) -> list[exp.Expression]:
        found: list[exp.Expression] = []
        for t in types:
            found.extend(self.by_type.get(t, ()))
        return found

    def is_view(self, table: exp.Table) -> bool:
        """Does this table reference resolve to nlq.pfa_merged (and not to a CTE)?"""
        name = normalized(table.args.get("this"))
        schema = table.args.get("db")
        if schema is None:
            return name == VIEW_NAME and name not in self.cte_names
        return name == VIEW_NAME and normalized(schema) == VIEW_SCHEMA and not table.args.get("catalog")


def parse_statement(sql: str, org_id: str = "") -> Statement:
    """Parse exactly one PostgreSQL statement; refuse anything sqlglot cannot read fully."""
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
    statement = Statement(sql=sql, ast=ast, org_id=org_id)
    for node in ast.walk():
        statement.nodes.append(node)
        statement.by_type[type(node)].append(node)
    statement.cte_names = {normalized(cte.args["alias"].this) for cte in statement.of(exp.CTE) if cte.args.get("alias")}
    return statement


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "syntax error"
