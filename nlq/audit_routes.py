"""Admin audit API under /api/pfa/{org_id}/audit: list, one entry, counts, export, verification, chain head."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from uuid import UUID

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from nlq.auth.deps import Admin
from nlq.csv_export import csv_chunk
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.errors import NotFound, ValidationFailed, check_text
from nlq.openapi import errors
from nlq.strict import DIGITS, QueryDateTime, QueryId
from store import queries
from store.audit import verify_chain
from store.audit_seal import InvalidHead, check_head, current_head, parse_head

router = APIRouter(prefix="/api/pfa/{org_id}/audit", tags=["audit"])
_Q = queries.load("audit")
LIST_FIELDS = ("id", "created_at", "user_id", "username", "kind", "question", "provider", "model", "verdict",
               "error_code", "row_count", "truncated", "timings", "executed_sql", "conversation_id", "reason_codes")
CSV_BATCH = 500


@router.get("")
async def list_audit(
    access: Admin, pool: AppPool,
    verdict: Literal["allowed", "rejected", "declined", "error"] | None = None,
    error_code: Annotated[str | None, Query(max_length=40)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    since: QueryDateTime | None = None, until: QueryDateTime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    before_id: QueryId | None = None,
    limit: Annotated[int, Query(ge=1, le=500), DIGITS] = 100,
    conversation: Annotated[UUID | None, Query(description="only the entries of this conversation")] = None,
) -> dict:
    """Newest first; page with `before_id` (the last id of the previous page)."""
    for name, value in (("error_code", error_code), ("user", user), ("q", q)):
        if value:
            check_text(value, name)
    params = {"org": access.org_id, "verdict": verdict, "error_code": error_code, "username": user,
              "since": since, "until": until, "text": f"%{q}%" if q else None, "before_id": before_id,
              "limit": limit, "conversation": conversation}
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
async def verify(
    access: Admin, request: Request,
    head: Annotated[str | None, Query(max_length=1000, description="a head saved from `/audit/head`, as JSON")] = None,
) -> dict:
    """Recompute the chain and every seal: `intact` false if anything was edited, removed or back-dated.

    Broken entries are listed for this organization only; `broken_elsewhere` says a break exists in
    another organization, without saying where. With `head`, `head_check` says whether the ledger
    still contains that saved head (a shorter or rewritten ledger does not).
    """
    saved = _parse_head(head) if head is not None else None
    app_url, key = request.app.state.urls.app, request.app.state.audit_key

    def run():
        with psycopg.connect(app_url, autocommit=True) as conn:
            report = verify_chain(conn, key, access.org_id).to_dict()
            if saved is not None:
                report["head_check"] = check_head(conn, key, saved)
            return report

    return await asyncio.to_thread(run)


@router.get("/head")
async def chain_head(access: Admin, request: Request) -> dict:
    """The signed chain head (newest position, its seal, the time, a signature), for an outside monitor.

    The ledger is one chain for all organizations, so the head is the same for every admin: it
    tells how many entries exist in total and nothing about their content.
    """
    app_url, key = request.app.state.urls.app, request.app.state.audit_key

    def run():
        with psycopg.connect(app_url, autocommit=True) as conn:
            return current_head(conn, key)

    return await asyncio.to_thread(run)


def _parse_head(text: str) -> dict:
    try:
        return parse_head(text)
    except InvalidHead as exc:
        raise ValidationFailed(exc.message, field="head") from None


@router.get("/export", response_class=StreamingResponse, responses={
    200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "Every entry, as JSON lines or CSV."}})
async def export_audit(access: Admin, pool: AppPool, format: Literal["jsonl", "csv"] = "jsonl") -> StreamingResponse:
    """Every entry of the organization, streamed as JSON lines or CSV (text cells that a spreadsheet
    would run as a formula are written as text: `nlq.csv_export`)."""

    async def jsonl():
        query = _Q["export_audit_jsonl"]
        async with pool.connection() as conn, conn.cursor().copy(query, {"org": access.org_id}) as copy:
            async for chunk in copy:
                yield bytes(chunk)

    async def csv_rows():
        # A server-side cursor: the export streams however many entries there are.
        async with pool.connection() as conn, conn.transaction():
            cursor = conn.cursor(name="audit_export")
            await cursor.execute(_Q["export_audit_csv"], {"org": access.org_id})
            yield csv_chunk([[d.name for d in cursor.description]])
            while rows := await cursor.fetchmany(CSV_BATCH):
                yield csv_chunk(rows)

    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(jsonl() if format == "jsonl" else csv_rows(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="audit-{access.org_id}.{format}"'})


@router.get("/{audit_id}", responses=errors(404))
async def audit_entry(audit_id: QueryId, access: Admin, pool: AppPool) -> dict:
    """One entry with everything recorded: prompts' hash, raw outputs, attempts, scope, estimate, timings."""
    async with pool.connection() as conn:
        cur = await conn.execute(_Q["get_audit"], {"org": access.org_id, "audit_id": audit_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"Audit entry {audit_id} is not in {access.org_id}.")
    return {d.name: jsonable(v) for d, v in zip(cur.description, row)}
