"""Verified examples for the SQL prompt: the few most similar to the question, still allowed.

Examples are SQL an admin approved (never rows), kept unscoped over `pfa_merged` the way the model
writes it. The guardrails check an example when it is saved and again when it is picked, so an
example that a tightened rule now refuses never teaches the model refused SQL.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from nlq.errors import ValidationFailed
from nlq.guard import guard
from store.examples import Example, similar_examples

MAX_EXAMPLES = 3
log = logging.getLogger(__name__)


async def examples_for_question(pool: AsyncConnectionPool, org_id: str, question: str,
                                limit: int = MAX_EXAMPLES, *, sees_costs: bool = True) -> list[Example]:
    """Up to `limit` active examples of `org_id` similar to `question`, best first (for a member
    who does not see costs, only examples the guardrails allow them: none that reads money).

    An aid, not a requirement: if they cannot be read, the question is answered without them.
    """
    try:
        async with pool.connection() as conn:
            found = await similar_examples(conn, org_id, question, limit * 2)
    except (psycopg.Error, PoolTimeout):
        log.warning("verified examples of %s could not be read; answering without them", org_id, exc_info=True)
        return []
    return [e for e in found if guard(e.sql, org_id=org_id, sees_costs=sees_costs).allowed][:limit]


def check_example_sql(sql: str, org_id: str) -> str:
    """The statement, if the guardrails allow it for `org_id`; else a 422 with their reasons."""
    verdict = guard(sql, org_id=org_id)
    if not verdict.allowed:
        raise ValidationFailed("The guardrails refuse this statement, so it cannot be a verified example.",
                               field="sql", reasons=[{"code": r.code, "message": r.message} for r in verdict.reasons])
    return sql
