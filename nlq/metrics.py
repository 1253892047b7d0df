"""GET /metrics: Prometheus text format — request latency from a middleware (summed over every API
process of the deployment, `nlq.metrics_dir`), the rest read from PostgreSQL at scrape time.

Metrics name every organization and its volumes, so they are off unless VANGUARD_METRICS_TOKEN
is set (404), and then need that token as a bearer token (compared in constant time).
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from nlq.metrics_dir import ensure_metrics_dir

ensure_metrics_dir()  # before prometheus_client is imported: it picks its storage on import

from prometheus_client import CollectorRegistry, Histogram, generate_latest  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402
from prometheus_client import values as _values  # noqa: E402

from nlq.config import Settings  # noqa: E402
from nlq.deps import AppPool, SettingsDep  # noqa: E402
from nlq.errors import NotFound, Unauthorized  # noqa: E402
from nlq.openapi import errors  # noqa: E402
from store import queries  # noqa: E402

router = APIRouter(tags=["health"])
_Q = queries.load("metrics")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
if not getattr(_values.ValueClass, "_multiprocess", False):
    raise RuntimeError("prometheus_client was imported before nlq.metrics could set PROMETHEUS_MULTIPROC_DIR")

# One histogram per process (prometheus_client's registry is per process too); its values live in
# this process's file in the shared directory, which every process's scrape reads.
REQUEST_SECONDS = Histogram("vanguard_http_request_seconds", "HTTP request latency.",
                            ("method", "route", "status"), buckets=BUCKETS, registry=None)


class RequestMetricsMiddleware:
    """Pure ASGI, timed to the response's start (for a stream, the time to its headers).

    It was an `@app.middleware("http")` function; Starlette runs those in a task group with a
    memory stream per request, which cost about 2 ms of CPU per request on a 2-core machine, more
    than a whole page of records takes in PostgreSQL.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observed = False

        def observe(status: int) -> None:
            nonlocal observed
            observed = True
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUEST_SECONDS.labels(scope["method"], template, f"{status // 100}xx").observe(
                time.perf_counter() - started)

        async def timed_send(message) -> None:
            if message["type"] == "http.response.start" and not observed:
                observe(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if not observed:  # no response started: the server's error page will say 500
                observe(500)


def install_request_metrics(app) -> None:
    app.add_middleware(RequestMetricsMiddleware)


def render_request_metrics() -> str:
    """The request histogram summed over every process that shares the metrics directory."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry).decode()


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
    lines = render_request_metrics().splitlines()
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
