"""API benchmarks on a large dataset: each read both through HTTP (uvicorn on loopback, a real client)
and as the bare SQL, so the service's own overhead is visible; writes through HTTP."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from nlq.app import create_app
from nlq.auth.passwords import hash_password
from nlq.bench import Result, p95
from nlq.config import Settings
from store import accounts, demo_data, mirror, queries
from store.database import DatabaseUrls
from store.embedded import EmbeddedPostgres
from store.migrate import upgrade
from store.pems.background import BackgroundServer
from store.scope import scope_statements

PASSWORD = "bench-password"
TARGETS = {"page": 25.0, "range": 15.0, "kpis": 10.0, "save": 15.0, "batch": 300.0, "commit": 1000.0}


def build(urls: DatabaseUrls, records: int, orgs: int, drafts: int) -> tuple[str, int]:
    """Organizations of demo records, one user with `drafts` working drafts in the first."""
    codes = demo_data.organization_codes(orgs)
    with psycopg.connect(urls.app, autocommit=True) as conn:
        for code in codes:
            accounts.upsert_organization(conn, code, code)
            with conn.transaction():
                mirror.copy_records(conn, demo_data.generate_records(code, records // orgs))
        user = accounts.insert_user(conn, "bench", hash_password(PASSWORD))
        for code in codes:
            accounts.upsert_membership(conn, user, code, "editor")
        rng = random.Random(1)
        picks = rng.sample(range(1, records // orgs + 1), min(drafts, records // orgs))
        with conn.transaction(), conn.cursor().copy(
                "COPY vanguard.pfa_draft (organization_id, user_id, record_id, state, delta) FROM STDIN") as copy:
            for index in picks:
                copy.write_row((codes[0], user, demo_data.record_id(index), "draft",
                                json.dumps({"area": "Silo 4", "forecastEnd": "2028-06-30"})))
        mirror.refresh_kpis(conn)
        mirror.analyze(conn)
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = %s", (codes[0],))
    return codes[0], user


def _timed_sql(urls: DatabaseUrls, org: str, user: int, statement: str, params: dict, runs: int) -> list[float]:
    samples = []
    with psycopg.connect(urls.app) as conn:
        for i in range(runs + 5):
            with conn.transaction():
                for s in scope_statements(org, user):
                    conn.execute(s)
                started = time.perf_counter()
                conn.execute(statement, params).fetchall()
                elapsed = (time.perf_counter() - started) * 1000
            if i >= 5:
                samples.append(elapsed)
    return samples


async def _timed_http(client: httpx.AsyncClient, method: str, path: str, runs: int, body=None) -> list[float]:
    samples = []
    for i in range(runs + 5):
        started = time.perf_counter()
        response = await client.request(method, path, json=body)
        response.raise_for_status()
        elapsed = (time.perf_counter() - started) * 1000
        if i >= 5:
            samples.append(elapsed)
    return samples


def _result(name: str, samples: list[float], target: float | None, sql: list[float] | None = None) -> Result:
    median = statistics.median(samples)
    note = f"SQL median {statistics.median(sql):.2f} ms, HTTP/SQL {median / statistics.median(sql):.2f}x" if sql else ""
    passed = None if target is None else p95(samples) <= target
    return Result(name, "ms", median, p95(samples), "" if target is None else f"p95 <= {target:g} ms", passed, note)


async def _measure(url: str, urls: DatabaseUrls, org: str, user: int, runs: int) -> list[Result]:
    results = []
    records_q = queries.load("kpis")
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        token = (await client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        page_sql = ("SELECT * FROM nlq.pfa_merged WHERE category = %(c)s AND source = %(s)s ORDER BY id LIMIT 101")
        http = await _timed_http(client, "GET", f"/api/pfa/{org}?category=Cranes&source=Rental&limit=100", runs)
        sql = _timed_sql(urls, org, user, page_sql, {"c": "Cranes", "s": "Rental"}, runs)
        results.append(_result("page of 100, two filters (with drafts)", http, TARGETS["page"], sql))
        range_sql = ("SELECT * FROM nlq.pfa_merged WHERE forecast_end >= %(a)s AND forecast_start <= %(b)s"
                     " ORDER BY id LIMIT 101")
        http = await _timed_http(client, "GET", f"/api/pfa/{org}?forecast_from=2026-03-01&forecast_to=2026-03-31&limit=100", runs)
        sql = _timed_sql(urls, org, user, range_sql, {"a": "2026-03-01", "b": "2026-03-31"}, runs)
        results.append(_result("one-month forecast range, page of 100", http, TARGETS["range"], sql))
        http = await _timed_http(client, "GET", f"/api/pfa/{org}/kpis", runs)
        sql = _timed_sql(urls, org, user, records_q["kpis_with_drafts"], {"org": org, "user_id": user}, runs)
        results.append(_result("KPIs with drafts", http, TARGETS["kpis"], sql))
        saves = []
        for i in range(runs):
            record = demo_data.record_id(i + 1)
            started = time.perf_counter()
            response = await client.post(f"/api/pfa/{org}/drafts", json={"record_id": record,
                                                                          "changes": {"dor": "BEO" if i % 2 else "PROJECT"}})
            saves.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        results.append(_result("save one draft", saves, TARGETS["save"]))
        await client.post(f"/api/pfa/{org}/drafts/discard", json={"all": True})
        items = [{"record_id": demo_data.record_id(i), "changes": {"area": "Camp"}} for i in range(2001, 3001)]
        started = time.perf_counter()
        (await client.post(f"/api/pfa/{org}/drafts/batch", json={"items": items})).raise_for_status()
        batch = (time.perf_counter() - started) * 1000
        results.append(Result("batch of 1,000 drafts", "ms", batch, batch, f"<= {TARGETS['batch']:g} ms",
                              batch <= TARGETS["batch"], "one run"))
        started = time.perf_counter()
        committed = (await client.post(f"/api/pfa/{org}/commit", json={})).json()
        commit = (time.perf_counter() - started) * 1000
        results.append(Result(f"commit of {len(committed['committed']):,} drafts (local part)", "ms", commit, commit,
                              f"<= {TARGETS['commit']:g} ms", commit <= TARGETS["commit"], "one run"))
        started = time.perf_counter()
        async with client.stream("GET", f"/api/pfa/{org}/export") as response:
            size = sum([len(chunk) async for chunk in response.aiter_bytes()])
        export = (time.perf_counter() - started) * 1000
    with psycopg.connect(urls.app) as conn:
        for s in scope_statements(org, user):
            conn.execute(s)
        started = time.perf_counter()
        with conn.cursor().copy(queries.load("records")["export_merged"]) as copy:
            bare = sum(len(chunk) for chunk in copy)
        copy_ms = (time.perf_counter() - started) * 1000
    results.append(Result("export of one organization (JSON lines)", "ms", export, export, "<= 1.3x bare COPY",
                          export <= 1.3 * copy_ms, f"{size / 1e6:.1f} MB; bare COPY {copy_ms:.0f} ms ({bare / 1e6:.1f} MB)"))
    return results


def bench_api(records: int, orgs: int, drafts: int, runs: int = 30) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="vanguard-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", temporary=True)
        admin = server.start()
        try:
            upgrade(admin)
            urls = DatabaseUrls.from_admin(admin)
            org, user = build(urls, records, orgs, drafts)
            web = BackgroundServer(create_app(Settings(sync_enabled=False), urls), lifespan="on")
            url = web.start()
            try:
                return asyncio.run(_measure(url, urls, org, user, runs))
            finally:
                web.stop()
        finally:
            server.stop()
