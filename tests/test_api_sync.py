"""Sync trigger and status, health with sync ages, and Prometheus metrics."""

from __future__ import annotations

import asyncio

import httpx
import psycopg

from nlq.app import create_app
from nlq.config import Settings
from tests.api_fixtures import seed


async def test_admin_triggers_a_sync_and_sees_it_in_the_status(db, pems_factory):
    pems = pems_factory(["ORG_A", "ORG_B"], 200)
    seed(db.app)
    settings = Settings(sync_interval_minutes=60)
    app = create_app(settings, db, pems.client().settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            token = (await client.post("/api/auth/login", json={"username": "admin_a",
                                                                 "password": "correct-horse-battery"})).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(100):  # the scheduler's first pass syncs everything
                status = (await client.get("/api/pfa/ORG_A/sync", headers=headers)).json()
                if status["runs"] and status["runs"][0]["status"] == "succeeded":
                    break
                await asyncio.sleep(0.1)
            first = status["runs"][0]
            # seeded rows had no PEMS recordid yet, so the first sync updates each of them once
            assert (first["kind"], first["fetched"], first["updated"]) == ("full", 200, 200)
            assert status["worker"]["enabled"] and status["next_run_at"] and status["last_success_at"]
            pems.control("change", org="ORG_A", count=4, seed=3)
            queued = await client.post("/api/pfa/ORG_A/sync", json={"full": False}, headers=headers)
            assert queued.status_code == 202 and queued.json() == {"queued": "ORG_A", "full": False}
            for _ in range(100):
                status = (await client.get("/api/pfa/ORG_A/sync", headers=headers)).json()
                if len([r for r in status["runs"] if r["direction"] == "read"]) >= 2 and status["runs"][0]["status"] != "running":
                    break
                await asyncio.sleep(0.1)
            latest = [r for r in status["runs"] if r["direction"] == "read"][0]
            assert (latest["kind"], latest["updated"]) == ("incremental", 4)
            assert latest["duration_seconds"] >= 0
            assert (await client.get("/health")).json() == {"status": "ok"}
            health = (await client.get("/health?detail=true", headers=headers)).json()
            assert health["status"] == "ok" and set(health["sync_age_seconds"]) == {"ORG_A"}  # admin of ORG_A only
            bad = await client.post("/api/pfa/ORG_A/sync", json={"full": "often"}, headers=headers)
            assert bad.status_code == 422
            everything = await client.post("/api/sync", json={"full": True}, headers=headers)
            assert everything.status_code == 202 and everything.json() == {"queued": ["ORG_A"], "full": True}


async def test_trigger_without_a_scheduler_is_503_not_500(api):
    response = await api.post("admin_a", "/api/pfa/ORG_A/sync", {})
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"


async def test_health_is_degraded_when_an_organization_never_synced(api):
    assert (await api.client.get("/health")).json() == {"status": "degraded"}
    body = (await api.get("admin_a", "/health?detail=true")).json()
    assert body["status"] == "degraded" and body["stale_organizations"] == ["ORG_A"]
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("INSERT INTO vanguard.sync_state (organization_id, last_success_at) VALUES"
                     " ('ORG_A', now()), ('ORG_B', now() - interval '1 day')")
    assert (await api.client.get("/health")).json() == {"status": "degraded"}
    body = (await api.get("admin_a", "/health?detail=true")).json()
    assert body["stale_organizations"] == [] and body["sync_age_seconds"].keys() == {"ORG_A"}
    assert body["sync_age_seconds"]["ORG_A"] < 60
    body = (await api.get("admin_b", "/health?detail=true")).json()
    assert body["stale_organizations"] == ["ORG_B"] and body["sync_age_seconds"]["ORG_B"] > 80_000


def sample(text: str, name_and_labels: str) -> float:
    """The value of one sample line of a scrape (0 when the series is not there yet)."""
    for line in text.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_are_prometheus_text(api):
    api.app.state.settings = Settings(metrics_token="scrape-token-0123456789")
    scrape = {"Authorization": "Bearer scrape-token-0123456789"}
    series = 'vanguard_http_request_seconds_count{method="GET",route="/api/pfa/{org_id}",status="2xx"}'
    await api.login("viewer_a"), await api.login("editor_a")
    # The histogram counts every request of the processes sharing the metrics directory (here the
    # test process, which earlier tests' apps shared), so this measures what the requests add.
    before = sample((await api.client.get("/metrics", headers=scrape)).text, series)
    await api.get("viewer_a", "/api/pfa/ORG_A")
    await api.post("editor_a", "/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000001", "changes": {"area": "M"}})
    text = (await api.client.get("/metrics", headers=scrape)).text
    assert '# TYPE vanguard_http_request_seconds histogram' in text
    assert sample(text, series) == before + 1
    assert sample(text, series.replace("_count{", '_bucket{le="+Inf",')) == before + 1
    assert sample(text, 'vanguard_http_request_seconds_count{method="POST",route="/api/pfa/{org_id}/drafts",'
                        'status="2xx"}') >= 1
    assert 'vanguard_drafts{organization="ORG_A",state="draft"} 1' in text
    assert 'vanguard_mirror_records{organization="ORG_A"} 200' in text
    for family in ("vanguard_sync_runs_total", "vanguard_records_synced_total", "vanguard_nlq_requests_total"):
        assert f"# TYPE {family}" in text


async def test_trigger_all_needs_admin_somewhere(api):
    refused = await api.post("editor_a", "/api/sync", {})
    assert refused.status_code == 403
    no_scheduler = await api.post("admin_a", "/api/sync", {"full": True})
    assert no_scheduler.status_code == 503
