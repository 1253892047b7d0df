"""Casts only to plain scalar types: no regclass / oid tricks, arrays, composite or user types."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.allowlist import ALLOWED_CAST_TYPES
from guardrails.errors import ForbiddenCast, GuardrailError
from guardrails.statement import Statement


def allow_casts(statement: Statement) -> Iterator[GuardrailError]:
    for node in statement.of(exp.DataType):
        if node.this not in ALLOWED_CAST_TYPES or node.args.get("nested") or node.args.get("values"):
            yield ForbiddenCast(f"casts to {node.sql(dialect='postgres').lower()[:60]} are not allowed")
            continue
        for param in node.expressions:
            value = param.this if isinstance(param, exp.DataTypeParam) else param
            if not (isinstance(value, exp.Literal) and not value.is_string):
                yield ForbiddenCast(f"type parameters must be numbers: {node.sql(dialect='postgres')[:60]}")
