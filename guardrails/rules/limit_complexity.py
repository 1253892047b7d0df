"""Bounds on size, so one statement cannot make the checker or the planner do unbounded work."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import GuardrailError, TooComplex
from guardrails.statement import Statement

MAX_SQL_CHARS = 20_000
MAX_NODES = 4_000
MAX_VIEW_REFERENCES = 8


def limit_complexity(statement: Statement) -> Iterator[GuardrailError]:
    if len(statement.sql) > MAX_SQL_CHARS:
        yield TooComplex(f"the statement is {len(statement.sql):,} characters long; the limit is {MAX_SQL_CHARS:,}")
    if len(statement.nodes) > MAX_NODES:
        yield TooComplex(f"the statement has {len(statement.nodes):,} parts; the limit is {MAX_NODES:,}")
    references = sum(1 for t in statement.of(exp.Table) if statement.is_view(t))
    if references > MAX_VIEW_REFERENCES:
        yield TooComplex(f"pfa_merged is referenced {references} times; the limit is {MAX_VIEW_REFERENCES}")
