"""The deterministic half of every explanation: what actually ran, read from the statement itself."""

from __future__ import annotations

import sqlglot

from guardrails import Verdict


def describe(original_sql: str, verdict: Verdict) -> str:
    """Filters, grouping, ordering and limit of the statement, plus what the service added."""
    parts: list[str] = []
    try:
        tree = sqlglot.parse_one(original_sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        tree = None
    if tree is not None:
        where = tree.args.get("where")
        if where is not None:
            parts.append(f"Filters: {where.this.sql(dialect='postgres')}.")
        group = tree.args.get("group")
        if group is not None:
            parts.append("Grouped by " + ", ".join(e.sql(dialect="postgres") for e in group.expressions) + ".")
        order = tree.args.get("order")
        if order is not None:
            parts.append("Ordered by " + ", ".join(e.sql(dialect="postgres") for e in order.expressions) + ".")
    scope = verdict.scope
    parts.append(f"Restricted to organization {scope.organization_id} (at every use of the view), "
                 f"including your unsaved drafts, and capped at {scope.limit:,} rows.")
    return " ".join(parts)

