"""The cost matrix and KPI pages: server-rendered from the same functions as the API, drafts applied."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from nlq import kpis as kpi_routes
from nlq.deps import AppPool
from nlq.auth.deps import Viewer
from nlq.masking import CostsHidden
from nlq.matrix import routes as matrix_routes
from nlq.matrix.service import COLUMNS, DIMENSIONS, LENGTHS, MEASURES, add_months, check_choice
from nlq.web.pages import _nav
from nlq.web.session import render

router = APIRouter(include_in_schema=False)
MEASURE_LABELS = {"plan": "Plan cost", "forecast": "Forecast cost", "actual": "Actual cost",
                  "variance": "Variance (forecast − plan)"}


def money(value) -> str:
    """Whole currency units with thousands separators; the exact figure goes in the cell's title.

    >>> money(1234567.891), money(-2500.7), money(0), money(None)
    ('1,234,568', '−2,501', '0', '')
    """
    if value is None:
        return ""
    text = f"{abs(value):,.0f}"
    return ("−" + text) if round(value) < 0 else text


def signed(value) -> str:
    """A change: +1,234 / −1,234, or nothing when there is none.

    >>> signed(1500), signed(-2), signed(0.2)
    ('+1,500', '−2', '')
    """
    if value is None or round(value) == 0:
        return ""
    return ("+" if value > 0 else "") + money(value)


def _month_label(month: str) -> str:
    return date.fromisoformat(month + "-01").strftime("%b %Y")


@router.get("/o/{org_id}/matrix")
async def matrix_page(request: Request, access: Viewer, pool: AppPool,
                      by: Annotated[str, Query(max_length=20)] = "category",
                      measure: Annotated[str, Query(max_length=20)] = "forecast",
                      first: Annotated[str | None, Query(alias="from", max_length=7)] = None,
                      months: matrix_routes.Months = None):
    """Groups x months of one measure; a member who may not see costs is told why there is nothing."""
    nav = _nav(request, access)
    if not access.sees_costs:
        refusal = CostsHidden(f"Cost fields are hidden for your membership in {access.org_id}, and the cost matrix "
                              "shows nothing but costs. The KPI page has the record counts.")
        return render(request, "matrix.html", 403, **nav, refused=refusal.message)
    check_choice("measure", measure, MEASURES)
    data = await matrix_routes.load_matrix(access, pool, by, first or None, months)
    start = date.fromisoformat(data["first"] + "-01")

    def link(**change) -> str:
        values = {"by": by, "measure": measure, "from": data["first"], "months": data["length"], **change}
        return "?" + urlencode(values)

    return render(request, "matrix.html", **nav, refused=None, data=data, by=by, measure=measure,
                  column=COLUMNS[measure], dimensions=DIMENSIONS, measures=MEASURE_LABELS,
                  lengths=sorted({*LENGTHS, data["length"]}), month_labels=[_month_label(m) for m in data["months"]],
                  money=money,
                  earlier=link(**{"from": add_months(start, -data["length"]).isoformat()[:7]}),
                  later=link(**{"from": add_months(start, data["length"]).isoformat()[:7]}),
                  csv_url=f"/api/pfa/{access.org_id}/matrix.csv" + link())


@router.get("/o/{org_id}/kpis")
async def kpis_page(request: Request, access: Viewer, pool: AppPool):
    """KPIs with the caller's drafts beside the PEMS figures, so every draft shows as a change."""
    payload = await kpi_routes.kpis(access, pool)
    pems = {(g["category"], g["source"]): g for g in payload["pems"]["groups"]}
    mine = {(g["category"], g["source"]): g for g in payload["groups"]}
    names = ["records", *(["plan_cost", "forecast_cost", "actual_cost", "cost_variance"] if access.sees_costs else [])]
    rows = []
    for key in sorted(pems.keys() | mine.keys()):
        now, before = mine.get(key, {}), pems.get(key, {})
        rows.append({"category": key[0], "source": key[1],
                     "figures": {n: (now.get(n, 0), (now.get(n, 0) or 0) - (before.get(n, 0) or 0)) for n in names}})
    totals = {n: (payload["totals"].get(n, 0), (payload["totals"].get(n, 0) or 0) - (payload["pems"]["totals"].get(n, 0) or 0))
              for n in names}
    return render(request, "kpis.html", **_nav(request, access), rows=rows, totals=totals, names=names,
                  changed=any(change for _, change in totals.values()) or any(
                      change for r in rows for _, change in r["figures"].values()),
                  timeline=payload["timeline"], sees_costs=access.sees_costs, money=money, signed=signed)
