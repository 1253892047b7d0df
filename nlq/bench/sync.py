"""Sync throughput: a full ingest over HTTP from the simulator (in its own process), then 1% changed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import psycopg

from nlq import progress
from nlq.bench import Result
from store import accounts
from nlq.bench.dataset import fresh_database
from store.pems.client import PemsClient, PemsSettings
from store.sync.worker import sync_organization

TARGET_RECORDS_PER_SECOND = 10_000
ORG = "HOLNG"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(records: int, orgs: int = 1) -> tuple[subprocess.Popen, str]:
    """`vanguard pems-sim` in its own process (the demo organizations' records), and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANGUARD_")}
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "pems-sim", "--orgs", str(orgs), "--records", str(records),
                             "--port", str(port), "--api-key", "bench"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_control/records?org=none", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the PEMS simulator did not start")


def bench_sync(records: int) -> list[Result]:
    """Full sync of `records` records of one organization, then an incremental run after 1% changed."""
    with fresh_database() as urls:
        sim, url = start_simulator(records)
        try:
            with psycopg.connect(urls.app, autocommit=True) as conn:
                accounts.upsert_organization(conn, ORG, "bench")
            client = PemsClient(PemsSettings(url, api_key="bench", page_size=5000))
            reading = progress.counter(f"  sync: reading {records:,} records") if progress.enabled() else None
            started = time.perf_counter()
            full = sync_organization(urls.app, client, ORG, progress=reading)
            full_seconds = time.perf_counter() - started
            progress.clear()
            if full.status != "succeeded" or full.inserted != records:
                raise RuntimeError(f"full sync did not complete: {full.status} {full.error}")
            httpx.post(f"{url}/_control/change", json={"org": ORG, "count": records // 100, "seed": 1}, timeout=60)
            started = time.perf_counter()
            incremental = sync_organization(urls.app, client, ORG)
            incremental_seconds = time.perf_counter() - started
            client.close()
        finally:
            sim.terminate()
            sim.wait(timeout=30)
    rate = records / full_seconds
    return [
        Result(f"sync: full ingest of {records:,} records over HTTP", "r/s", rate, rate,
               f">= {TARGET_RECORDS_PER_SECOND:,} r/s", rate >= TARGET_RECORDS_PER_SECOND,
               f"{full_seconds:.1f} s; " + ", ".join(f"{k} {v}" for k, v in full.timings.items())),
        Result(f"sync: incremental, 1% ({incremental.updated:,}) changed", "ms", incremental_seconds * 1000,
               incremental_seconds * 1000, "reference", None, f"{incremental.fetched:,} rows read"),
    ]
