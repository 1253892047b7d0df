"""`... OR 1 = 1` and friends: a classic scope-widening trick, never needed in an honest query."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import GuardrailError, Tautology
from guardrails.statement import Statement


def _is_constant(node: exp.Expression) -> bool:
    """No column, subquery or star anywhere below: its value cannot depend on a row."""
    return node.find(exp.Column, exp.Subquery, exp.Star, exp.Select) is None


def refuse_tautologies(statement: Statement) -> Iterator[GuardrailError]:
    for node in statement.of(exp.Or):
        for side in (node.this, node.expression):
            if side is not None and _is_constant(side):
                yield Tautology(f"OR {side.sql(dialect='postgres')[:60]} is a constant condition")
