"""POST /api/ai/bulk (SSE) and the change-set review routes under /api/pfa/{org_id}/change-sets."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from nlq.ask.routes import _json_value
from nlq import masking
from nlq.auth.deps import ROLE_RANK, Editor, UserDep
from nlq.bulk.service import stream_bulk
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.drafts.schemas import RecordId
from nlq.errors import Forbidden, NotFound, check_text
from nlq.openapi import errors
from nlq.strict import DIGITS, QueryId
from store import change_sets, queries
from store.fields import FINANCIAL_KEYS

router = APIRouter(tags=["bulk"])
_Q = queries.load("change_sets")


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    request: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(lambda v: check_text(v, "request"))]


class Selection(BaseModel):
    """Which records of the change set: all (no body or null) or the listed ones."""

    model_config = ConfigDict(extra="forbid")
    record_ids: list[RecordId] | None = Field(default=None, min_length=1, max_length=5000)


@router.post("/api/ai/bulk")
async def bulk(body: BulkRequest, user: UserDep, request: Request) -> EventSourceResponse:
    """Stream a bulk-edit proposal: `status`, `plan`, `summary` (change set, counts, skipped with reasons,
    preview of the first diffs), `done`; or `error`. Nothing is written to the records: the proposal
    waits for review."""
    role = user.role_in(body.org_id)
    if role is None or ROLE_RANK[role] < ROLE_RANK["editor"]:
        raise Forbidden(f"This needs the editor role in organization {body.org_id}.")

    async def events():
        async for item in stream_bulk(request.app.state.ask, body.org_id, user.id, body.request.strip(),
                                     sees_costs=user.sees_costs(body.org_id)):
            yield {"event": item["event"], "data": json.dumps(item["data"], default=_json_value)}

    return EventSourceResponse(events(), ping=15)


@router.get("/api/pfa/{org_id}/change-sets")
async def list_change_sets(access: Editor, pool: AppPool) -> dict:
    """The caller's change sets with how many items are proposed, accepted, rejected, committed."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["list_change_sets"], {"org": access.org_id, "user_id": access.user.id})).fetchall()
    names = ("id", "origin", "name", "request", "status", "created_at", "proposed", "accepted", "rejected", "committed")
    return {"items": [{n: jsonable(v) for n, v in zip(names, row)} for row in rows]}


@router.get("/api/pfa/{org_id}/change-sets/{change_set_id}", responses=errors(404))
async def get_change_set(change_set_id: QueryId, access: Editor, pool: AppPool,
                         limit: Annotated[int, Query(ge=1, le=1000), DIGITS] = 200,
                         offset: Annotated[int, Query(ge=0, le=1_000_000), DIGITS] = 0) -> dict:
    """One change set and one page of its items (by record id), per field: before and after.

    `total` and `counts` (items per state) cover the whole change set, not only this page."""
    params = {"id": change_set_id, "org": access.org_id, "user_id": access.user.id}
    async with pool.connection() as conn:
        head = await (await conn.execute(_Q["get_change_set"], params)).fetchone()
        if head is None:
            raise NotFound(f"Change set {change_set_id} is not one of yours in {access.org_id}.")
        rows = await (await conn.execute(_Q["change_set_items"], {**params, "limit": limit, "offset": offset})).fetchall()
        counts = dict(await (await conn.execute(_Q["change_set_counts"], params)).fetchall())
    items = []
    for record_id, state, delta, detail in rows:
        before = ((detail or {}).get("before") or {})
        after = (detail or {}).get("delta", delta) if state == "discarded" else delta
        items.append({"record_id": record_id, "state": state,
                      "fields": [{"field": k, "before": before.get(k), "after": v} for k, v in after.items()
                                 if access.sees_costs or k not in FINANCIAL_KEYS]})
    names = ("id", "origin", "name", "request", "plan", "status", "audit_id", "created_at")
    change_set = {n: jsonable(v) for n, v in zip(names, head)}
    if not access.sees_costs:
        change_set["plan"] = masking.deep(change_set["plan"])
    return {**change_set, "total": sum(counts.values()), "counts": counts, "offset": offset, "items": items}


async def _owned(conn, change_set_id: int, access) -> None:
    params = {"id": change_set_id, "org": access.org_id, "user_id": access.user.id}
    if await (await conn.execute(_Q["get_change_set"], params)).fetchone() is None:
        raise NotFound(f"Change set {change_set_id} is not one of yours in {access.org_id}.")


@router.post("/api/pfa/{org_id}/change-sets/{change_set_id}/accept", responses=errors(404))
async def accept(change_set_id: QueryId, access: Editor, pool: AppPool, body: Selection | None = None) -> dict:
    """Proposed items become working drafts (merging with drafts you already had on those records)."""
    async with pool.connection() as conn, conn.transaction():
        await _owned(conn, change_set_id, access)
        result = await change_sets.accept(conn, access.org_id, access.user.id, change_set_id,
                                          body.record_ids if body else None)
    return {"accepted": result.accepted, "merged": result.merged, "skipped": result.skipped}


@router.post("/api/pfa/{org_id}/change-sets/{change_set_id}/reject", responses=errors(404))
async def reject(change_set_id: QueryId, access: Editor, pool: AppPool, body: Selection | None = None) -> dict:
    """Proposed items are dropped; the merged view never showed them."""
    async with pool.connection() as conn, conn.transaction():
        await _owned(conn, change_set_id, access)
        rejected = await change_sets.reject(conn, access.user.id, change_set_id, body.record_ids if body else None)
    return {"rejected": rejected}
