"""Routes under /api/pfa/{org_id}: drafts, commit, commit status, conflict resolution."""

from __future__ import annotations

import asyncio
from typing import Annotated

import psycopg
from fastapi import APIRouter, Query, Request
from psycopg.types.json import Jsonb

from nlq import masking
from nlq.auth.deps import Editor, Viewer
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.drafts.schemas import CommitRequest, DiscardRequest, DraftBatch, DraftCreate, ResolveRequest
from nlq.errors import Conflict, NotFound, ValidationFailed
from nlq.openapi import errors
from nlq.strict import DIGITS, QueryId
from store import queries
from store.drafts import DraftChange, DraftRejected, save_drafts
from store.sync.writeback import commit_drafts

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["drafts"])
_Q = queries.load("drafts")
OPEN_STATES = ["draft", "committed", "conflict", "sync_error"]
ALL_STATES = ["proposed", "draft", "committed", "synced", "conflict", "sync_error", "rejected", "discarded"]


async def _save(pool, access, items: list[DraftChange], change_set_id: int | None) -> dict:
    if not access.sees_costs:
        for item in items:
            masking.refuse_money_changes(item.changes, access.org_id)
    try:
        async with pool.connection() as conn, conn.transaction():
            result = await save_drafts(conn, access.org_id, access.user.id, items, change_set_id)
    except DraftRejected as exc:
        raise ValidationFailed(exc.message, **exc.details) from None
    return {"saved": result.saved, "cleared": result.cleared}


@router.post("/drafts")
async def save_draft(body: DraftCreate, access: Editor, pool: AppPool) -> dict:
    """Save one record's changes into the caller's working draft (validated against every rule)."""
    return await _save(pool, access, [DraftChange(body.record_id, body.changes)], body.change_set_id)


@router.post("/drafts/batch")
async def save_draft_batch(body: DraftBatch, access: Editor, pool: AppPool) -> dict:
    """Save up to 5,000 items, all or nothing; a refusal lists every item's violations."""
    items = [DraftChange(i.record_id, i.changes) for i in body.items]
    return await _save(pool, access, items, body.change_set_id)


@router.get("/drafts")
async def list_drafts(access: Viewer, pool: AppPool,
                      state: Annotated[list[str] | None, Query(max_length=8)] = None,
                      limit: Annotated[int, Query(ge=1, le=5000), DIGITS] = 1000) -> dict:
    """The caller's drafts in this organization (open ones unless `state` is given)."""
    states = state or OPEN_STATES
    unknown = sorted(set(states) - set(ALL_STATES))
    if unknown:
        raise ValidationFailed(f"unknown state {unknown[0][:20]!r}", field="state", allowed=ALL_STATES)
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["list_drafts"], {"org": access.org_id, "user_id": access.user.id,
                                                              "states": states, "limit": limit})).fetchall()
    names = ("id", "record_id", "state", "delta", "base", "change_set_id", "commit_id", "detail", "updated_at")
    items = [{n: jsonable(v) for n, v in zip(names, row)} for row in rows]
    return {"items": items if access.sees_costs else masking.deep(items)}


@router.post("/drafts/discard")
async def discard_drafts(body: DiscardRequest, access: Editor, pool: AppPool) -> dict:
    """Discard working drafts: all of them, one change set's, or the given records'."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["discard_working_drafts"], {
            "org": access.org_id, "user_id": access.user.id, "change_set_id": body.change_set_id,
            "record_ids": body.record_ids})).fetchall()
    return {"discarded": sorted(r[0] for r in rows)}


@router.post("/commit")
async def commit(body: CommitRequest, access: Editor, request: Request) -> dict:
    """Commit working drafts (all, one change set, or `record_ids`): conflicts are listed, clean ones go to PEMS."""
    app_url = request.app.state.urls.app

    def run():
        with psycopg.connect(app_url, autocommit=True) as conn:
            return commit_drafts(conn, access.org_id, access.user.id, body.change_set_id, body.record_ids)

    result = await asyncio.to_thread(run)
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None and result.committed:
        scheduler.wake()  # deliver to PEMS now rather than at the next tick
    return {"commit_id": result.commit_id, "committed": result.committed, "conflicts": result.conflicts}


@router.get("/commits/{commit_id}", responses=errors(404))
async def commit_status(commit_id: QueryId, access: Viewer, pool: AppPool) -> dict:
    """Where each record of one of the caller's commits stands: committed, synced, conflict, sync_error."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["commit_status"], {"org": access.org_id, "user_id": access.user.id,
                                                                "commit_id": commit_id})).fetchall()
    if not rows:
        raise NotFound(f"Commit {commit_id} is not one of yours in {access.org_id}.")
    items = [{"record_id": r[0], "state": r[1], "detail": r[2], "updated_at": jsonable(r[3])} for r in rows]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["state"]] = counts.get(item["state"], 0) + 1
    return {"commit_id": commit_id, "counts": counts, "items": items if access.sees_costs else masking.deep(items)}


@router.post("/drafts/{record_id}/resolve", responses=errors(404, 409))
async def resolve_conflict(record_id: str, body: ResolveRequest, access: Editor, pool: AppPool) -> dict:
    """keep_mine: the draft becomes a working draft again, rebased on PEMS's values; take_theirs: dropped."""
    params = {"org": access.org_id, "user_id": access.user.id, "record_id": record_id}
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(_Q["conflict_draft"], params)).fetchone()
        if row is None:
            raise NotFound(f"You have no conflict on record {record_id[:100]}.")
        draft_id, delta, current = row
        if body.strategy == "take_theirs":
            await conn.execute(_Q["discard_drafts_by_ids"], {"ids": [draft_id]})
            return {"record_id": record_id, "state": "discarded"}
        if await (await conn.execute(_Q["has_working_draft"], params)).fetchone():
            raise Conflict("You already have a newer working draft on this record; discard it first.")
        await conn.execute(_Q["reopen_draft"], {"id": draft_id, "base": Jsonb({k: current.get(k) for k in delta})})
    return {"record_id": record_id, "state": "draft"}
