"""GET /api/pfa/{org_id}/timeline/bars: one page of timeline rows, grouped, with the caller's drafts.

The rows are the merged list's own statement (`nlq.records.query.list_statement`) sorted by the
group column, so the timeline shares the grid's filters, keyset paging and measured speed: the
first screen of an organization of 50,000 records reads about one page from an index, never the
whole organization. A record whose forecast the caller has drafted carries PEMS's forecast as
`pems`, which the page draws as a ghost behind the drafted bar.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from nlq import masking
from nlq.auth.deps import ROLE_RANK, Viewer
from nlq.db import json_cursor, jsonable
from nlq.deps import AppPool
from nlq.errors import check_text
from nlq.records.query import LIST_COLUMNS, decode_cursor, encode_cursor, list_statement
from nlq.records.routes import Filters
from store import queries

router = APIRouter(prefix="/api/pfa/{org_id}/timeline", tags=["timeline"])
_RECORDS = queries.load("records")
_KPIS = queries.load("kpis")
ROW_FIELDS = ("id", "category", "area", "class", "source", "is_actualized", "is_discontinued", "has_draft",
              "plan_start", "plan_end", "forecast_start", "forecast_end", "actual_start", "actual_end")
MONEY_FIELDS = ("monthly_rate", "purchase_price", "forecast_cost")
FORECAST_KEYS = {"forecastStart": "forecast_start", "forecastEnd": "forecast_end"}
Group = Literal["category", "area"]


@router.get("/bars")
async def timeline_bars(
    access: Viewer, pool: AppPool, query: Filters,
    group: Group = "category",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict:
    """Rows ordered by `group` then id, `limit` at a time (follow `next_cursor`).

    Each row has its plan, forecast and actual dates (an actual still open runs to `today`), and
    `pems` (PEMS's forecast) when the caller's draft moved the forecast. The first page (no cursor)
    also carries the organization's date bounds with the caller's drafts, so one request draws the
    first screen. Money (rate, price, forecast cost) only for members who may see costs.
    """
    query.sort, query.descending, query.limit = group, False, limit
    if cursor:
        check_text(cursor, "cursor")
        query.after = decode_cursor(cursor, group, False)
    statement, params = list_statement(query, access.org_id, access.user.id)
    async with pool.connection() as conn:
        rows = await (await json_cursor(conn).execute(statement, params)).fetchall()
        page = [dict(zip(LIST_COLUMNS, row)) for row in rows[:limit]]
        drafted_ids = [r["id"] for r in page if r["has_draft"]]
        drafts = []
        if drafted_ids:
            drafts = await (await conn.execute(_RECORDS["working_drafts_of_records"], {
                "org": access.org_id, "user_id": access.user.id, "ids": drafted_ids})).fetchall()
        bounds = None
        if not cursor:
            bounds = _bounds(await (await conn.execute(_KPIS["timeline_with_drafts"], {
                "org": access.org_id, "user_id": access.user.id})).fetchone())
    moved = {record_id: (delta, base) for record_id, delta, base in drafts}
    fields = ROW_FIELDS + (MONEY_FIELDS if access.sees_costs else ())
    items = [{**{f: r[f] for f in fields}, "group": r[group], "pems": _pems_forecast(r, *moved.get(r["id"], ({}, {})))}
             for r in page]
    if not access.sees_costs:
        items = [masking.list_item(item) for item in items]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(group, False, last[group], last["id"])
    return {"group": group, "items": items, "next_cursor": next_cursor, "bounds": bounds,
            "today": datetime.now(timezone.utc).date().isoformat(),
            "can_edit": ROLE_RANK[access.role] >= ROLE_RANK["editor"], "sees_costs": access.sees_costs}


def _pems_forecast(row: dict, delta: dict, base: dict) -> dict | None:
    """PEMS's forecast of a record whose draft moves it (None when no draft of the caller does):
    a date the draft leaves alone is the row's own."""
    if not any(k in delta for k in FORECAST_KEYS):
        return None
    return {column: jsonable(base.get(key)) if key in delta else row[column] for key, column in FORECAST_KEYS.items()}


def _bounds(row: tuple | None) -> dict:
    names = ("plan_start", "plan_end", "forecast_start", "forecast_end", "actual_start", "actual_end")
    return {n: jsonable(v) for n, v in zip(names, row or (None,) * 6)}
