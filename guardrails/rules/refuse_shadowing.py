"""Nothing but the view itself may be called pfa_merged: no CTE, subquery or VALUES alias."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails.errors import GuardrailError, ShadowedView
from guardrails.statement import VIEW_NAME, Statement, normalized


def refuse_shadowing(statement: Statement) -> Iterator[GuardrailError]:
    if VIEW_NAME in statement.cte_names:
        yield ShadowedView(f"a CTE named {VIEW_NAME} would hide the view")
    for alias in statement.of(exp.TableAlias):
        if normalized(alias.args.get("this")) != VIEW_NAME:
            continue
        owner = alias.parent
        if isinstance(owner, exp.CTE):
            continue  # reported once above
        if isinstance(owner, exp.Table) and statement.is_view(owner):
            continue  # "FROM pfa_merged AS pfa_merged" is the view itself
        yield ShadowedView(f"a {type(owner).__name__.lower()} aliased {VIEW_NAME} would hide the view")
