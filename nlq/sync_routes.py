"""Sync endpoints: trigger (admin) and status, per organization."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from nlq.auth.deps import Admin, UserDep, Viewer
from nlq.db import jsonable
from nlq.deps import AppPool, SettingsDep
from nlq.errors import Forbidden, ServiceUnavailable
from nlq.strict import Flag
from store import queries

router = APIRouter(prefix="/api/pfa/{org_id}/sync", tags=["sync"])
all_router = APIRouter(prefix="/api/sync", tags=["sync"])
_Q = queries.load("sync_api")


class SyncTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full: Flag = False


async def _queue(request: Request, pool, orgs: list[str], full: bool) -> None:
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is None:
        raise ServiceUnavailable("The sync scheduler is not running in this process.")
    async with pool.connection() as conn:
        for org in orgs:
            await conn.execute(_Q["make_due"], {"org": org, "full": full})
    scheduler.wake()


@router.post("", status_code=202)
async def trigger_sync(body: SyncTrigger, access: Admin, pool: AppPool, request: Request) -> dict:
    """Queue a sync of this organization now (full: also reconcile deletions). Needs admin."""
    await _queue(request, pool, [access.org_id], body.full)
    return {"queued": access.org_id, "full": body.full}


@all_router.post("", status_code=202)
async def trigger_all(body: SyncTrigger, user: UserDep, pool: AppPool, request: Request) -> dict:
    """Queue a sync of every organization the caller administers (403 when there is none)."""
    orgs = sorted(org for org, role in user.memberships.items() if role == "admin")
    if not orgs:
        raise Forbidden("This needs the admin role in at least one organization.")
    await _queue(request, pool, orgs, body.full)
    return {"queued": orgs, "full": body.full}


@router.get("")
async def sync_status(access: Viewer, pool: AppPool, settings: SettingsDep, request: Request) -> dict:
    """Recent runs with counts, durations and the PEMS each talked to, the next scheduled run, and
    the worker's state (with the PEMS this process syncs with)."""
    async with pool.connection() as conn:
        runs = await (await conn.execute(_Q["recent_runs"], {"org": access.org_id})).fetchall()
        state = await (await conn.execute(_Q["sync_state"], {"org": access.org_id})).fetchone()
        outbox = dict(await (await conn.execute(_Q["outbox_counts"], {"org": access.org_id})).fetchall())
    names = ("id", "direction", "kind", "status", "fetched", "inserted", "updated", "unchanged", "deleted",
             "malformed", "failed", "error", "started_at", "finished_at", "duration_seconds", "pems")
    last_attempt = state[1] if state else None
    scheduler = getattr(request.app.state, "scheduler", None)
    return {
        "runs": [{n: jsonable(v) for n, v in zip(names, row)} for row in runs],
        "last_success_at": jsonable(state[0]) if state else None,
        "next_run_at": jsonable(last_attempt + timedelta(minutes=settings.sync_interval_minutes)) if last_attempt else None,
        "worker": {"enabled": scheduler is not None, "running": bool(scheduler and scheduler.running),
                   "pems": scheduler.pems.display_name if scheduler else None},
        "writeback": outbox,
    }
