"""Liveness and readiness: is the database reachable and migrated, and is every organization fresh?"""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
from fastapi import APIRouter

from nlq.deps import AppPool, SettingsDep
from nlq.errors import ServiceUnavailable
from store import queries

router = APIRouter(tags=["health"])
_Q = queries.load("sync_api")


@router.get("/health")
async def health(pool: AppPool, settings: SettingsDep) -> dict:
    """`ok` when the database answers and every organization synced within twice the interval;
    `degraded` (still HTTP 200) when one is stale or never synced; 503 when the database is down."""
    try:
        async with pool.connection(timeout=5) as conn:
            version = await (await conn.execute("SELECT max(version) FROM vanguard.schema_migrations")).fetchone()
            synced = await (await conn.execute(_Q["last_success_per_org"])).fetchall()
    except (psycopg.Error, TimeoutError) as exc:
        raise ServiceUnavailable("The database is not reachable.") from exc
    now = datetime.now(timezone.utc)
    limit = 2 * settings.sync_interval_minutes * 60
    ages = {org: None if at is None else round((now - at).total_seconds()) for org, at in synced}
    stale = sorted(org for org, age in ages.items() if age is None or age > limit)
    return {"status": "degraded" if stale else "ok", "database": "ok", "schema_version": version[0],
            "sync_age_seconds": ages, "stale_organizations": stale}
