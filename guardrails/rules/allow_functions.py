"""Function calls only from the allowlist; names are judged as PostgreSQL resolves them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlglot import exp

from guardrails.allowlist import ALLOWED_FUNCTION_NAMES, ALLOWED_FUNCTIONS, ALLOWED_NODES, SQL_VALUE_KEYWORDS
from guardrails.errors import ForbiddenFunction, GuardrailError
from guardrails.names import fold
from guardrails.statement import Statement

_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*(\(|$)")


def _display_name(node: exp.Func) -> str:
    """The name as written in SQL (`repeat`), or the node kind for operators (`RegexpLike`)."""
    match = _CALL.match(node.sql(dialect="postgres"))
    return match.group(1).lower() if match else type(node).__name__


def allow_functions(statement: Statement) -> Iterator[GuardrailError]:
    """Refuse every function call not on the allowlist.

    An untyped call must use an unquoted name: `U&"\\0070g_sleep"(1)` and `"pg_sleep"(1)` are
    refused however sqlglot prints them.
    """
    for node in statement.nodes:
        if not isinstance(node, exp.Func) or type(node) in ALLOWED_NODES:
            continue
        if isinstance(node, exp.Anonymous):
            name = node.args.get("this")
            if not isinstance(name, str) or fold(name) not in ALLOWED_FUNCTION_NAMES:
                shown = name.this if isinstance(name, exp.Identifier) else str(name)
                yield ForbiddenFunction(f"function {shown[:60]} is not allowed")
        elif type(node) not in ALLOWED_FUNCTIONS:
            yield ForbiddenFunction(f"function {_display_name(node)} is not allowed")
    for column in statement.of(exp.Column):
        name = column.args.get("this")
        if (isinstance(name, exp.Identifier) and not name.quoted and not column.args.get("table")
                and fold(name.this) in SQL_VALUE_KEYWORDS):
            yield ForbiddenFunction(f"function {name.this.lower()} is not allowed")
