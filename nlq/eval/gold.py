"""Gold statements run the way the service runs an answer: guardrails, then the reader executor."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from nlq.errors import NlqError
from nlq.guard import guard
from nlq.eval.score import Table
from store.reader import ExecutionLimits, Outcome, run_query


class GoldRefused(NlqError):
    """A gold statement is refused by the guardrails."""

    code = "gold_refused"


async def run_gold(pool: AsyncConnectionPool, statement: str, *, org_id: str, user_id: int,
                   limits: ExecutionLimits) -> Table:
    """The rows of `statement` as `user_id` sees `org_id` (drafts included), through the same
    guardrails and reader path as an answer, so both sides see the same data and row cap.

    Raises GoldRefused (with the reasons) or the reader's QueryError."""
    verdict = guard(statement, org_id=org_id, max_rows=limits.max_rows)
    if not verdict.allowed:
        raise GoldRefused("the guardrails refuse the gold statement: "
                          + "; ".join(f"{r.code}: {r.message}" for r in verdict.reasons))
    outcome = Outcome()
    rows: list[list] = []
    async for batch in run_query(pool, verdict.sql, org_id=org_id, user_id=user_id, limits=limits, outcome=outcome,
                                 budget_statement=verdict.budget_sql):
        rows.extend(batch.rows)
    return Table(columns=outcome.columns, rows=rows, truncated=outcome.truncated)
