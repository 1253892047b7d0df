"""Listing an organization's commits with where each one's drafts stand (pending, delivered, ...)."""

from __future__ import annotations

from psycopg import AsyncConnection

from store import queries

_Q = queries.load("commits")
COLUMNS = ("id", "username", "display_name", "user_id", "change_set_id", "created_at", "drafts",
           "pending", "delivered", "conflict", "failed", "discarded", "updated_at")


async def list_commits(conn: AsyncConnection, org: str, limit: int, offset: int) -> tuple[int, list[dict]]:
    """One page of `org`'s commits, newest first, and how many there are in all.

    Only counts and who / when: no values, so nothing here depends on who may see costs.
    """
    total = (await (await conn.execute(_Q["count_commits"], {"org": org})).fetchone())[0]
    rows = await (await conn.execute(_Q["list_commits"], {"org": org, "limit": limit, "offset": offset})).fetchall()
    return total, [dict(zip(COLUMNS, row)) for row in rows]
