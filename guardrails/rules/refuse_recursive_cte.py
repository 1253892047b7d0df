"""No WITH RECURSIVE: unbounded iteration is a resource-exhaustion tool, never an analytic need here."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import GuardrailError, RecursiveCte
from guardrails.statement import Statement


def refuse_recursive_cte(statement: Statement) -> Iterator[GuardrailError]:
    for with_ in statement.of(exp.With):
        if with_.args.get("recursive"):
            yield RecursiveCte("WITH RECURSIVE is not allowed")
