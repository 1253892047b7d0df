"""GET /api/pfa/{org_id} (merged records), /records/{id} (one, with its draft), /export (JSON lines or CSV)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from psycopg import sql

from nlq import masking
from nlq.auth.deps import Viewer
from nlq.db import json_cursor, jsonable, row_dict, scoped
from nlq.deps import AppPool, SettingsDep
from nlq.csv_export import csv_chunk
from nlq.errors import NotFound, ValidationFailed, check_text
from nlq.openapi import errors
from nlq.strict import QueryBool, QueryDate
from nlq.records.values import VocabularyDep, match_any_case
from nlq.records.query import (BOOL_FILTERS, LIST_COLUMNS, TEXT_FILTERS, ListQuery, count_statement, decode_cursor,
                               encode_cursor, export_statement, list_statement, parse_sort)
from store import queries
from store.fields import BY_COLUMN, COST_MASKED_COLUMNS, VIEW_COLUMNS, FieldType

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["records"])
_Q = queries.load("records")
Values = Annotated[list[str] | None, Query(max_length=50)]
EXPORT_BLOCK = 256 * 1024
CSV_BATCH = 2000


async def record_filters(
    access: Viewer, vocabulary: VocabularyDep,
    category: Values = None, klass: Annotated[list[str] | None, Query(alias="class", max_length=50)] = None,
    source: Values = None, dor: Values = None, area: Values = None, manufacturer: Values = None,
    is_actualized: QueryBool | None = None, is_discontinued: QueryBool | None = None,
    has_draft: QueryBool | None = None,
    forecast_from: QueryDate | None = None, forecast_to: QueryDate | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> ListQuery:
    """The filters shared by the list and the count: repeated values are OR-ed, filters AND-ed, and
    text values match in any case ("cranes" finds Cranes: `values.match_any_case`)."""
    for name, values in (("category", category), ("class", klass), ("source", source), ("dor", dor), ("area", area),
                         ("manufacturer", manufacturer), ("q", [q] if q else None)):
        for value in values or ():
            check_text(value, name)
    query = ListQuery(search=q or None, forecast_from=forecast_from, forecast_to=forecast_to)
    for name, values in zip(TEXT_FILTERS, (category, klass, source, dor, area, manufacturer)):
        if values:
            query.text[name] = [v for v in values if v]
    for name, flag in zip(BOOL_FILTERS, (is_actualized, is_discontinued, has_draft)):
        if flag is not None:
            query.flags[name] = flag
    await match_any_case(query, vocabulary, access.org_id, None)
    return query


Filters = Annotated[ListQuery, Depends(record_filters)]


@router.get("")
async def list_records(
    access: Viewer, pool: AppPool, settings: SettingsDep, query: Filters,
    sort: Annotated[str, Query(max_length=40)] = "id",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict:
    """The caller's merged view: filters, any typed column as sort (`-col` descending), keyset paging."""
    column, descending = parse_sort(sort)
    if not access.sees_costs:
        masking.refuse_money_sort(column, access.org_id)
    query.sort, query.descending, query.limit = column, descending, limit
    if cursor:
        check_text(cursor, "cursor")
        query.after = decode_cursor(cursor, column, descending)
    statement, params = list_statement(query, access.org_id, access.user.id)
    async with pool.connection() as conn:
        # JSON-ready loaders, except for a numeric sort: its keyset cursor needs the exact value.
        exact = BY_COLUMN[column].type is FieldType.NUMERIC if column in BY_COLUMN else False
        rows = await (await (conn.cursor() if exact else json_cursor(conn)).execute(statement, params)).fetchall()
        meta_row = await (await conn.execute(_Q["records_meta"], {"org": access.org_id, "user_id": access.user.id})).fetchone()
    items = [(row_dict if exact else _plain_dict)(LIST_COLUMNS, row) for row in rows[:limit]]
    if not access.sees_costs:
        items = [masking.list_item(item) for item in items]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(column, descending, last[LIST_COLUMNS.index(column)], last[0])
    return {"items": items, "next_cursor": next_cursor, "meta": _meta(meta_row, settings)}


@router.get("/count")
async def count_records(access: Viewer, pool: AppPool, query: Filters) -> dict:
    """How many merged records (with the caller's drafts) match the filters of the list."""
    statement, params = count_statement(query, access.org_id, access.user.id)
    async with pool.connection() as conn:
        (count,) = await (await conn.execute(statement, params)).fetchone()
    return {"count": count}


def _plain_dict(columns: tuple[str, ...] | list[str], row: tuple) -> dict:
    return dict(zip(columns, row))


def _meta(row: tuple, settings) -> dict:
    draft_count, last_synced_at, syncing = row
    stale_after = timedelta(minutes=2 * settings.sync_interval_minutes)
    stale = last_synced_at is None or datetime.now(timezone.utc) - last_synced_at > stale_after
    return {"draft_count": draft_count, "last_synced_at": jsonable(last_synced_at), "syncing": syncing,
            "stale": stale}


@router.get("/records/{record_id}", responses=errors(404))
async def get_record(record_id: str, access: Viewer, pool: AppPool) -> dict:
    """One merged record, with the caller's draft on it (delta, base values, state) if any."""
    check_text(record_id, "record_id")
    async with scoped(pool, access.org_id, access.user.id) as conn:
        cur = await conn.execute(_Q["get_merged_record"], {"record_id": record_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound(f"Record {record_id[:100]} is not in organization {access.org_id}.")
        record = row_dict([d.name for d in cur.description], row)
        draft = await (await conn.execute(_Q["get_draft_of_record"], {
            "org": access.org_id, "user_id": access.user.id, "record_id": record_id})).fetchone()
    record["draft"] = None if draft is None else {
        "id": draft[0], "state": draft[1], "delta": draft[2], "base": draft[3], "change_set_id": draft[4],
        "updated_at": jsonable(draft[5]), "current": {k: draft[6].get(k) for k in draft[2]}}
    return record if access.sees_costs else masking.record(record)


def _masked_export() -> sql.Composed:
    """The export of a member who may not see costs: the visible columns only (so `data`, which
    carries the rate and price, is left out too)."""
    return sql.SQL(_Q["export_merged_columns"]).format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in masking.VISIBLE_COLUMNS))


@router.get("/export", response_class=StreamingResponse, responses={
    200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "One merged record per line."}})
async def export_records(
    access: Viewer, pool: AppPool, query: Filters, vocabulary: VocabularyDep,
    sort: Annotated[str, Query(max_length=40)] = "id",
    format: Literal["jsonl", "csv"] = "jsonl",
    columns: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> StreamingResponse:
    """The merged records that match the list's filters, in its sort, streamed: JSON lines (every
    column, PostgreSQL renders the JSON) or CSV (the list's columns, or those asked for, with text
    that a spreadsheet would run as a formula written as text: `nlq.csv_export`)."""
    column, descending = parse_sort(sort)
    if not access.sees_costs:
        masking.refuse_money_sort(column, access.org_id)
    query.sort, query.descending = column, descending
    await match_any_case(query, vocabulary, access.org_id, access.user.id)  # the view has no draft half
    chosen = _export_columns(access, columns)
    whole = (not query.text and not query.flags and query.search is None and query.forecast_from is None
             and query.forecast_to is None and sort == "id" and columns is None)

    async def lines():
        # COPY hands over about one row per chunk; sending each as its own body write costs more
        # than producing it, so rows are gathered into blocks of about 256 KB.
        if whole:
            statement, params = (_Q["export_merged"] if access.sees_costs else _masked_export()), None
        else:
            statement, params = export_statement(_Q["export_merged_filtered"], query,
                                                 chosen if columns or not access.sees_costs else VIEW_COLUMNS)
        block = bytearray()
        async with scoped(pool, access.org_id, access.user.id) as conn:
            async with conn.cursor().copy(statement, params) as copy:
                async for chunk in copy:
                    block += chunk
                    if len(block) >= EXPORT_BLOCK:
                        yield bytes(block)
                        block.clear()
        if block:
            yield bytes(block)

    async def csv_rows():
        statement, params = export_statement(_Q["export_merged_rows"], query, chosen)
        yield csv_chunk([chosen])
        async with scoped(pool, access.org_id, access.user.id) as conn:
            cursor = conn.cursor(name="records_export")
            await cursor.execute(statement, params)
            while rows := await cursor.fetchmany(CSV_BATCH):
                yield csv_chunk(rows)

    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(lines() if format == "jsonl" else csv_rows(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{access.org_id}.{format}"'})


def _export_columns(access, asked: list[str] | None) -> list[str]:
    """The columns of an export the caller may read: the list's (no `data`), or those asked for."""
    visible = [c for c in LIST_COLUMNS if access.sees_costs or c not in COST_MASKED_COLUMNS]
    if not asked:
        return visible
    for name in asked:
        check_text(name, "columns")
        if name in COST_MASKED_COLUMNS and not access.sees_costs:
            raise masking.CostsHidden(f"Cost fields are hidden for your membership in {access.org_id}.",
                                      field="columns")
        if name not in visible:
            raise ValidationFailed(f"no column {name[:40]!r} to export", field="columns", allowed=visible)
    return list(dict.fromkeys(asked))
