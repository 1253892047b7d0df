"""GET /api/pfa/{org_id}/matrix (JSON) and /matrix.csv: the cost matrix with the caller's drafts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from nlq.auth.deps import OrgAccess, Viewer
from nlq.csv_export import csv_chunk
from nlq.deps import AppPool
from nlq.masking import CostsHidden
from nlq.strict import DIGITS
from nlq.matrix.service import DIMENSIONS, MEASURES, check_choice, cost_matrix, csv_rows, resolve_window
from store import queries

router = APIRouter(prefix="/api/pfa/{org_id}", tags=["kpis"])
_KPIS = queries.load("kpis")
By = Annotated[str, Query(max_length=20, description="rows: category, area or class")]
First = Annotated[str | None, Query(alias="from", max_length=7, description="first month, YYYY-MM")]
Months = Annotated[int | None, Query(description="number of months (1-36); default 12"), DIGITS]


def refuse_masked(access: OrgAccess) -> None:
    """The matrix is money in every cell; a member who may not see costs gets a refusal, not a blank grid."""
    if not access.sees_costs:
        raise CostsHidden(f"Cost fields are hidden for your membership in {access.org_id}, and the cost matrix "
                          "shows nothing but costs. The KPI page has the record counts.")


async def load_matrix(access: OrgAccess, pool, by: str, first: str | None, months: int | None) -> dict:
    """One implementation for the API, the CSV and the page: checks, the window, the statement."""
    refuse_masked(access)
    check_choice("by", by, DIMENSIONS)
    async with pool.connection() as conn:
        if first is None:
            bounds = await (await conn.execute(_KPIS["timeline_with_drafts"],
                                               {"org": access.org_id, "user_id": access.user.id})).fetchone()
            bounds = dict(zip(("plan_start", "plan_end", "forecast_start", "forecast_end"), bounds or ()))
        else:
            bounds = {}
        window = resolve_window(first, months, bounds, date.today())
        return await cost_matrix(conn, access.org_id, access.user.id, by, window)


@router.get("/matrix", response_class=JSONResponse)
async def matrix(access: Viewer, pool: AppPool, by: By = "category", first: First = None,
                 months: Months = None) -> JSONResponse:
    """Plan / forecast / actual cost and variance per group and month, totals per group and month.

    Computed by PostgreSQL from a materialized baseline plus the caller's working drafts. A Rental's
    cost is spread over the days of its period (monthly_rate x days in the month / 30.44, as the
    derived costs are), a Purchase counts in its start month. 403 `costs_hidden` for a member who
    may not see costs. The body is already plain JSON values, so it is sent as built: FastAPI's
    generic encoding walked its thousands of cells again (a quarter of the response time).
    """
    return JSONResponse(await load_matrix(access, pool, by, first, months))


@router.get("/matrix.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One measure of the matrix as CSV."}})
async def matrix_csv(access: Viewer, pool: AppPool, by: By = "category", first: First = None,
                     months: Months = None,
                     measure: Annotated[str, Query(max_length=20, description="plan, forecast, actual or variance")]
                     = "forecast") -> Response:
    """The matrix of one measure as CSV: a row per group and a total row, a column per month and a total."""
    check_choice("measure", measure, MEASURES)
    data = await load_matrix(access, pool, by, first, months)
    name = f"{access.org_id}-{measure}-cost-by-{by}-{data['first']}-{data['length']}m.csv"
    return Response(csv_chunk(csv_rows(data, measure)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
