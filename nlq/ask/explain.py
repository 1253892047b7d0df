"""The deterministic half of every explanation: what actually ran, read from the statement itself."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from guardrails import Verdict


def describe(original_sql: str, verdict: Verdict, max_rows: int | None = None) -> str:
    """Filters, grouping, ordering and limit of the statement, plus what the service added.

    Ordinals (`GROUP BY 1`) are named by the column they stand for. `max_rows` is the service's
    row cap (the statement itself may carry one more row, to tell a cut answer from a whole one).

    >>> from guardrails import check
    >>> v = check("SELECT area, count(*) AS n FROM pfa_merged GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    ...           org_id="ORG_A", view_columns=["area"])
    >>> describe("SELECT area, count(*) AS n FROM pfa_merged GROUP BY 1 ORDER BY 2 DESC LIMIT 1", v, 1000)
    'Grouped by area. Ordered by n DESC. Restricted to organization ORG_A (at every use of the view), including your unsaved drafts, and capped at 1 row.'
    """
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
            parts.append("Grouped by " + ", ".join(_named(tree, e) for e in group.expressions) + ".")
        order = tree.args.get("order")
        if order is not None:
            parts.append("Ordered by " + ", ".join(_named(tree, e) for e in order.expressions) + ".")
    scope = verdict.scope
    limit = scope.limit if max_rows is None else min(scope.limit, max_rows)
    parts.append(f"Restricted to organization {scope.organization_id} (at every use of the view), "
                 f"including your unsaved drafts, and capped at {limit:,} row{'' if limit == 1 else 's'}.")
    return " ".join(parts)


def _named(tree: exp.Expression, item: exp.Expression) -> str:
    """`GROUP BY 2` / `ORDER BY 2 DESC` as the second output column's name (or its expression)."""
    target = item.this if isinstance(item, exp.Ordered) else item
    projections = tree.expressions if isinstance(tree, exp.Select) else []
    if isinstance(target, exp.Literal) and not target.is_string and target.this.isdigit():
        index = int(target.this) - 1
        if 0 <= index < len(projections):
            projection = projections[index]
            name = projection.alias_or_name if isinstance(projection, (exp.Alias, exp.Column)) else ""
            shown = name or projection.sql(dialect="postgres")
            if isinstance(item, exp.Ordered) and item.args.get("desc"):
                shown += " DESC"
            return shown
    return item.sql(dialect="postgres")
