"""The timeline page: plan / forecast / actual bars per record, drawn by `static/timeline.js`.

The page itself carries only the filters (the grid's query parameters, checked by the same
dependency as the API, so a bad filter is the same clear error) and what the caller may do; the
bars come a page at a time from `GET /api/pfa/{org}/timeline/bars`, and a shifted forecast is
saved through the drafts API with its rules.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from nlq.auth.deps import Viewer
from nlq.records.routes import Filters
from nlq.timeline.routes import Group
from nlq.web.pages import _nav
from nlq.web.session import render

router = APIRouter(include_in_schema=False)
Zoom = Literal["month", "quarter", "year"]
FILTER_NAMES = ("category", "class", "source", "dor", "area", "is_actualized", "is_discontinued", "has_draft",
                "forecast_from", "forecast_to", "q")


@router.get("/o/{org_id}/timeline")
async def timeline_page(request: Request, access: Viewer, query: Filters, group: Group = "category",
                        zoom: Zoom = "month"):
    del query  # validated here for a clear error; the script sends the same parameters to the API
    filters = [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_NAMES and v]
    return render(request, "timeline.html", **_nav(request, access), filters=request.query_params,
                  filter_items=filters, group=group, zoom=zoom, sees_costs=access.sees_costs)
