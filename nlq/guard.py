"""The service's one way into the guardrails: `check` with the view's columns from the field registry."""

from __future__ import annotations

from guardrails import DEFAULT_MAX_ROWS, ColumnPolicy, Verdict, check
from store.fields import COST_MASKED_COLUMNS, VIEW_COLUMNS

COSTS_HIDDEN = ColumnPolicy(hidden=COST_MASKED_COLUMNS, why="costs are hidden for your membership")
COSTS_SHOWN = ColumnPolicy()


def column_policy(sees_costs: bool) -> ColumnPolicy:
    """The column policy of a member: costs hidden unless their membership shows them."""
    return COSTS_SHOWN if sees_costs else COSTS_HIDDEN


def guard(sql: str, *, org_id: str, max_rows: int = DEFAULT_MAX_ROWS, sees_costs: bool = True) -> Verdict:
    """`guardrails.check` for `nlq.pfa_merged` as the field registry describes it."""
    return check(sql, org_id=org_id, view_columns=VIEW_COLUMNS, max_rows=max_rows, policy=column_policy(sees_costs))
