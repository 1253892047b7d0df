"""The service's one way into the guardrails: `check` with the view's columns from the field registry."""

from __future__ import annotations

from guardrails import DEFAULT_MAX_ROWS, Verdict, check
from store.fields import VIEW_COLUMNS


def guard(sql: str, *, org_id: str, max_rows: int = DEFAULT_MAX_ROWS) -> Verdict:
    """`guardrails.check` for `nlq.pfa_merged` as the field registry describes it."""
    return check(sql, org_id=org_id, view_columns=VIEW_COLUMNS, max_rows=max_rows)
