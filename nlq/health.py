"""Liveness and readiness: is the database reachable and migrated, and is every organization fresh?

Without a login, /health says only `ok` or `degraded` (enough for a load balancer); which
organizations are stale and how old their syncs are is per-organization information, shown with
`?detail=true` to a logged-in admin, for the organizations they administer, with the read
replica's lag when NL answers run on one.
"""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
from fastapi import APIRouter, Request

from nlq.auth.deps import current_user
from nlq.deps import AppPool, SettingsDep
from nlq.errors import Forbidden, ServiceUnavailable
from store import queries

router = APIRouter(tags=["health"])
_Q = queries.load("sync_api")


@router.get("/health")
async def health(request: Request, pool: AppPool, settings: SettingsDep, detail: bool = False) -> dict:
    """`ok` when the database answers and every organization synced within twice the interval;
    `degraded` (still HTTP 200) when one is stale or never synced; 503 when the database is down.
    `detail=true` (admins only) adds the schema version and the sync age of each organization the
    caller administers."""
    user = await current_user(request, pool) if detail else None
    administered = {org for org, role in user.memberships.items() if role == "admin"} if user else set()
    if user is not None and not administered:
        raise Forbidden("Health details need the admin role in an organization.")
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
    status = "degraded" if stale else "ok"
    if user is None:
        return {"status": status}
    replica = request.app.state.ask.replica
    return {"status": status, "database": "ok", "schema_version": version[0],
            "sync_age_seconds": {org: age for org, age in ages.items() if org in administered},
            "stale_organizations": [org for org in stale if org in administered],
            "replica": None if replica is None else await replica.lag()}
