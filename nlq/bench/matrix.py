"""The cost matrix of one organization with the benchmark user's drafts: HTTP and the bare SQL."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx

from nlq.app import create_app
from nlq.bench import Result
from nlq.bench.api import _result, _timed_http, _timed_sql
from nlq.bench.dataset import PASSWORD, Dataset
from nlq.config import Settings
from nlq.matrix.service import MatrixWindow, default_window
from store import queries
from store.pems.background import BackgroundServer

TARGET_MS = 50.0
CASES = (("matrix by category, 12 months (with drafts)", "category", 12),
         ("matrix by area, 36 months (with drafts)", "area", 36))


async def _measure(url: str, dataset: Dataset, runs: int) -> list[Result]:
    statement = queries.load("matrix")["matrix_cells"]
    results = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        token = (await client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        bounds = (await client.get(f"/api/pfa/{dataset.org}/timeline")).json()
        for name, by, months in CASES:
            window: MatrixWindow = default_window(bounds, date.today(), months)
            path = f"/api/pfa/{dataset.org}/matrix?by={by}&from={window.first.isoformat()[:7]}&months={months}"
            http = await _timed_http(client, "GET", path, runs)
            params = {"org": dataset.org, "user_id": dataset.user_id, "by": by, "first": window.first,
                      "last": window.last}
            bare = _timed_sql(dataset.urls, dataset.org, dataset.user_id, statement, params, runs)
            results.append(_result(name, http, TARGET_MS, bare))
    return results


def bench_matrix(dataset: Dataset, runs: int = 30) -> list[Result]:
    """The matrix for the benchmark user (the dataset's drafts) in the first organization."""
    web = BackgroundServer(create_app(Settings(sync_enabled=False), dataset.urls), lifespan="on")
    url = web.start()
    try:
        return asyncio.run(_measure(url, dataset, runs))
    finally:
        web.stop()
