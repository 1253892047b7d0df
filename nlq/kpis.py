"""GET /api/pfa/{org_id}/kpis: category x source totals (materialized baseline + the caller's drafts)."""

from __future__ import annotations

from fastapi import APIRouter

from nlq import masking
from nlq.auth.deps import Viewer
from nlq.db import jsonable
from nlq.deps import AppPool
from nlq.draft_moves import compact_if_grown
from store import queries

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["kpis"])
_Q = queries.load("kpis")
COMPACT_AFTER = 200  # rows of draft moves added per user before they are summed into one per group
_COMPACTION = ("draft_delta_rows_added", "compact_draft_deltas", "record_kpi_compaction")


@router.get("/kpis")
async def kpis(access: Viewer, pool: AppPool) -> dict:
    """Counts and plan / forecast / actual cost and variance by category and source, with timeline bounds.

    The baseline comes from materialized views refreshed after each sync; the caller's working
    drafts are applied as the moves triggers recorded when they were saved (migration 0013), so
    no draft is read here. `pems` holds the same figures without drafts, to show drafts as a change.
    The timeline's forecast bounds widen with drafts; they never narrow below the baseline.
    """
    params = {"org": access.org_id, "user_id": access.user.id}
    async with pool.connection() as conn:
        await compact_if_grown(conn, _Q, _COMPACTION, params, COMPACT_AFTER)
        rows = await (await conn.execute(_Q["kpis_with_drafts"], params)).fetchall()
        baseline = await (await conn.execute(_Q["kpis_baseline"], params)).fetchall()
        timeline = await (await conn.execute(_Q["timeline_with_drafts"], params)).fetchone()
    groups, totals = _groups(rows)
    pems_groups, pems_totals = _groups(baseline)
    payload = {"groups": groups, "totals": totals, "timeline": _bounds(timeline),
               "pems": {"groups": pems_groups, "totals": pems_totals}}
    return payload if access.sees_costs else masking.kpis(payload)


def _groups(rows: list[tuple]) -> tuple[list[dict], dict]:
    names = ("category", "source", "records", "plan_cost", "forecast_cost", "actual_cost", "cost_variance")
    groups = [{n: jsonable(v) for n, v in zip(names, row)} for row in rows]
    return groups, {n: jsonable(sum(g[n] or 0 for g in groups)) for n in names[2:]}


@router.get("/timeline")
async def timeline(access: Viewer, pool: AppPool) -> dict:
    """Earliest and latest plan / forecast / actual dates (for a timeline's axis), with the caller's drafts."""
    async with pool.connection() as conn:
        row = await (await conn.execute(_Q["timeline_with_drafts"],
                                        {"org": access.org_id, "user_id": access.user.id})).fetchone()
    return _bounds(row)


def _bounds(row: tuple | None) -> dict:
    names = ("plan_start", "plan_end", "forecast_start", "forecast_end", "actual_start", "actual_end")
    return {n: jsonable(v) for n, v in zip(names, row or (None,) * 6)}
