"""The statement must be a query: SELECT, or a set operation of SELECTs, with optional WITH."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import GuardrailError, NotAQuery
from guardrails.statement import Statement


def require_query(statement: Statement) -> Iterator[GuardrailError]:
    """Refuse anything whose root is not a SELECT or UNION / INTERSECT / EXCEPT.

    Writable CTEs (`WITH x AS (DELETE ...) SELECT`) have a SELECT root; their DML is refused by
    `allow_known_nodes`, which never admits Insert, Update, Delete or Merge anywhere.
    """
    if not isinstance(statement.ast, (exp.Select, exp.SetOperation)):
        kind = type(statement.ast).__name__.upper()
        yield NotAQuery(f"{kind} is not a query; only SELECT is allowed")
