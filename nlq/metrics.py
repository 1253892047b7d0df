"""GET /metrics: Prometheus text format — request latency from a middleware, the rest read at scrape time.

Metrics name every organization and its volumes, so they are off unless VANGUARD_METRICS_TOKEN
is set (404), and then need that token as a bearer token (compared in constant time).
"""

from __future__ import annotations

import bisect
import hmac
import time
from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from nlq.config import Settings
from nlq.deps import AppPool, SettingsDep
from nlq.errors import NotFound, Unauthorized
from nlq.openapi import errors
from store import queries

router = APIRouter(tags=["health"])
_Q = queries.load("metrics")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """A latency histogram per (method, route template, status class)."""

    def __init__(self) -> None:
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[tuple, float] = defaultdict(float)

    def observe(self, key: tuple, seconds: float) -> None:
        self.counts[key][bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[key] += seconds

    def render(self) -> list[str]:
        lines = ["# HELP vanguard_http_request_seconds HTTP request latency.",
                 "# TYPE vanguard_http_request_seconds histogram"]
        for (method, route, status), counts in sorted(self.counts.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            running = 0
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts):
                running += count
                lines.append(f'vanguard_http_request_seconds_bucket{{{labels},le="{bound}"}} {running}')
            lines.append(f"vanguard_http_request_seconds_sum{{{labels}}} {self.sums[(method, route, status)]:.6f}")
            lines.append(f"vanguard_http_request_seconds_count{{{labels}}} {running}")
        return lines


def install_request_metrics(app) -> None:
    app.state.request_metrics = RequestMetrics()

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        key = (request.method, template, f"{response.status_code // 100}xx")
        app.state.request_metrics.observe(key, time.perf_counter() - started)
        return response


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _check_scraper(request: Request, settings: Settings) -> None:
    expected = Settings.secret(settings.metrics_token)
    if not expected:
        raise NotFound("Not found.")
    header = request.headers.get("Authorization", "")
    supplied = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise Unauthorized("Send the metrics token as 'Authorization: Bearer <token>'.")


@router.get("/metrics", response_class=PlainTextResponse, responses=errors(401, 404))
async def metrics(request: Request, pool: AppPool, settings: SettingsDep) -> str:
    """Prometheus text; needs `Authorization: Bearer <VANGUARD_METRICS_TOKEN>` (404 when no token is set)."""
    _check_scraper(request, settings)
    lines = request.app.state.request_metrics.render()
    async with pool.connection() as conn:
        families = (
            ("vanguard_sync_runs_total", "counter", "Sync runs by direction, kind and status.", "sync_runs_by_status",
             ("organization", "direction", "kind", "status")),
            ("vanguard_sync_run_seconds_sum", "counter", "Total duration of finished sync runs.", "sync_durations",
             ("organization", "direction")),
            ("vanguard_records_synced_total", "counter", "Records inserted or updated by read syncs.", "records_synced",
             ("organization",)),
            ("vanguard_mirror_records", "gauge", "Live records in the mirror.", "mirror_records", ("organization",)),
            ("vanguard_drafts", "gauge", "Drafts by state.", "drafts_by_state", ("organization", "state")),
            ("vanguard_nlq_requests_total", "counter", "NL requests by kind and verdict.", "nlq_by_verdict",
             ("organization", "kind", "verdict")),
        )
        for name, kind, help_text, query, labels in families:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            for row in await (await conn.execute(_Q[query])).fetchall():
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(labels, row[:-1]))
                lines.append(f"{name}{{{label_text}}} {float(row[-1] or 0):g}")
    return "\n".join(lines) + "\n"
