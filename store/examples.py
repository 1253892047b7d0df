"""Verified examples (question + admin-approved SQL, per organization) and answer ratings.

An example's SQL is kept as the model would write it: over `pfa_merged`, without any organization
filter (the guardrails add the scope whenever SQL runs). Nothing here ever holds a row of the
mirror: examples are text an admin saved, ratings point at audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from store import queries

_Q = queries.load("examples")
RATINGS = ("up", "down")


@dataclass(frozen=True)
class Example:
    id: int
    question: str
    sql: str


def model_statement(attempts: list[dict]) -> str | None:
    """The statement the model wrote that the guardrails allowed (the last attempt if none was):
    its own text, never the scoped rewrite that ran.

    >>> model_statement([{"sql": "SELECT pg_sleep(1)", "allowed": False}, {"sql": "SELECT 1", "allowed": True}])
    'SELECT 1'
    """
    allowed = [a.get("sql") for a in attempts or [] if a.get("allowed") and a.get("sql")]
    if allowed:
        return allowed[-1]
    written = [a.get("sql") for a in attempts or [] if a.get("sql")]
    return written[-1] if written else None


async def audit_source(conn: AsyncConnection, org: str, audit_id: int) -> dict | None:
    """The audit entry an example is made from (None when it is not in `org`)."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["audit_source_for_example"], {"org": org, "audit_id": audit_id})
    return await cur.fetchone()


async def insert_example(conn: AsyncConnection, org: str, user_id: int, audit_id: int, question: str,
                         sql: str) -> int:
    row = await (await conn.execute(_Q["insert_example"], {"org": org, "audit_id": audit_id, "question": question,
                                                           "sql": sql, "user_id": user_id})).fetchone()
    return row[0]


async def list_examples(conn: AsyncConnection, org: str, *, include_retired: bool = False,
                        before_id: int | None = None, limit: int = 100) -> list[dict]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["list_examples"], {"org": org, "include_retired": include_retired,
                                            "before_id": before_id, "limit": limit})
    return await cur.fetchall()


async def get_example(conn: AsyncConnection, org: str, example_id: int) -> dict | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["get_example"], {"org": org, "example_id": example_id})
    return await cur.fetchone()


async def lock_example(conn: AsyncConnection, org: str, example_id: int) -> bool | None:
    """Lock the example for an edit: None when it is not in `org`, else whether it is retired."""
    row = await (await conn.execute(_Q["lock_example"], {"org": org, "example_id": example_id})).fetchone()
    return None if row is None else row[0]


async def update_example(conn: AsyncConnection, org: str, user_id: int, example_id: int, question: str,
                         sql: str) -> None:
    await conn.execute(_Q["update_example"], {"org": org, "example_id": example_id, "question": question,
                                              "sql": sql, "user_id": user_id})


async def retire_example(conn: AsyncConnection, org: str, user_id: int, example_id: int) -> bool:
    """Retire it (it stops reaching prompts at once); False when it is not in `org`."""
    row = await (await conn.execute(_Q["retire_example"], {"org": org, "example_id": example_id,
                                                           "user_id": user_id})).fetchone()
    return row is not None


async def similar_examples(conn: AsyncConnection, org: str, question: str, limit: int) -> list[Example]:
    """The organization's active examples most similar to `question` (full-text search, best first)."""
    rows = await (await conn.execute(_Q["similar_examples"], {"org": org, "question": question,
                                                              "limit": limit})).fetchall()
    return [Example(id=r[0], question=r[1], sql=r[2]) for r in rows]


async def rate_answer(conn: AsyncConnection, org: str, user_id: int, audit_id: int, rating: str) -> dict | None:
    """Set the user's rating of their own answer (one per user and answer; a new one replaces it).
    None when `audit_id` is not a question this user asked in `org`."""
    if await (await conn.execute(_Q["own_answer"], {"org": org, "audit_id": audit_id,
                                                    "user_id": user_id})).fetchone() is None:
        return None
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["upsert_rating"], {"org": org, "audit_id": audit_id, "user_id": user_id, "rating": rating})
    return await cur.fetchone()


async def get_rating(conn: AsyncConnection, org: str, user_id: int, audit_id: int) -> dict | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["get_rating"], {"org": org, "audit_id": audit_id, "user_id": user_id})
    return await cur.fetchone()


async def list_down_rated(conn: AsyncConnection, org: str, limit: int = 200) -> list[dict]:
    """Down-rated answers of `org`, newest rating first, each with the model's statement."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_Q["list_down_rated"], {"org": org, "limit": limit})
    rows = await cur.fetchall()
    for row in rows:
        row["sql"] = model_statement(row.pop("attempts"))
    return rows
