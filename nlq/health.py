"""Liveness and readiness: is the database reachable and migrated?"""

from __future__ import annotations

import psycopg
from fastapi import APIRouter

from nlq.deps import AppPool
from nlq.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(pool: AppPool) -> dict:
    """`ok` with the schema version when the database answers; 503 otherwise."""
    try:
        async with pool.connection(timeout=5) as conn:
            row = await (await conn.execute(
                "SELECT max(version) FROM vanguard.schema_migrations"
            )).fetchone()
    except (psycopg.Error, TimeoutError) as exc:
        raise ServiceUnavailable("The database is not reachable.") from exc
    return {"status": "ok", "database": "ok", "schema_version": row[0]}
