"""Admin audit API under /api/pfa/{org_id}/audit: list, one entry, counts, export, chain verification."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from nlq.auth.deps import Admin
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.errors import NotFound, check_text
from store import queries
from store.audit import verify_chain

router = APIRouter(prefix="/api/pfa/{org_id}/audit", tags=["audit"])
_Q = queries.load("audit")
LIST_FIELDS = ("id", "created_at", "user_id", "username", "kind", "question", "provider", "model", "verdict",
               "error_code", "row_count", "truncated", "timings", "executed_sql", "reason_codes")


@router.get("")
async def list_audit(
    access: Admin, pool: AppPool,
    verdict: Literal["allowed", "rejected", "declined", "error"] | None = None,
    error_code: Annotated[str | None, Query(max_length=40)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None, until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    before_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    """Newest first; page with `before_id` (the last id of the previous page)."""
    for name, value in (("error_code", error_code), ("user", user), ("q", q)):
        if value:
            check_text(value, name)
    params = {"org": access.org_id, "verdict": verdict, "error_code": error_code, "username": user,
              "since": since, "until": until, "text": f"%{q}%" if q else None, "before_id": before_id,
              "limit": limit}
    async with pool.connection() as conn:
        rows = await (await conn.execute(_Q["list_audit"], params)).fetchall()
    items = [{k: jsonable(v) for k, v in zip(LIST_FIELDS, row)} for row in rows]
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}


@router.get("/stats")
async def audit_stats(access: Admin, pool: AppPool) -> dict:
    """Counts by verdict (and error code) and by guardrail reason code."""
    async with pool.connection() as conn:
        by_verdict = await (await conn.execute(_Q["audit_counts_by_verdict"], {"org": access.org_id})).fetchall()
        by_reason = await (await conn.execute(_Q["audit_counts_by_reason"], {"org": access.org_id})).fetchall()
    return {"by_verdict": [{"verdict": v, "error_code": e or None, "count": n} for v, e, n in by_verdict],
            "by_reason": [{"code": c, "count": n} for c, n in by_reason]}


@router.get("/verify")
async def verify(access: Admin, request: Request) -> dict:
    """Recompute the hash chain: `intact` false, with the rows concerned, if anything was edited or removed."""
    app_url = request.app.state.urls.app

    def run():
        with psycopg.connect(app_url) as conn:
            return verify_chain(conn, access.org_id)

    report = await asyncio.to_thread(run)
    return {"intact": report.intact, "checked": report.checked, "broken": report.broken}


@router.get("/export", response_class=StreamingResponse)
async def export_audit(access: Admin, pool: AppPool, format: Literal["jsonl", "csv"] = "jsonl") -> StreamingResponse:
    """Every entry of the organization, streamed as JSON lines or CSV."""
    query = _Q["export_audit_jsonl" if format == "jsonl" else "export_audit_csv"]

    async def chunks():
        async with pool.connection() as conn, conn.cursor().copy(query, {"org": access.org_id}) as copy:
            async for chunk in copy:
                yield bytes(chunk)

    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(chunks(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="audit-{access.org_id}.{format}"'})


@router.get("/{audit_id}")
async def audit_entry(audit_id: int, access: Admin, pool: AppPool) -> dict:
    """One entry with everything recorded: prompts' hash, raw outputs, attempts, scope, estimate, timings."""
    async with pool.connection() as conn:
        cur = await conn.execute(_Q["get_audit"], {"org": access.org_id, "audit_id": audit_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"Audit entry {audit_id} is not in {access.org_id}.")
    return {d.name: jsonable(v) for d, v in zip(cur.description, row)}
