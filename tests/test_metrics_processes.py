"""/metrics is one view of every API process sharing the metrics directory: two real server
processes on one database, requests to each, one scrape of either shows them all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest

from tests.api_fixtures import PASSWORD, seed
from tests.helpers import cli_env

TOKEN = "metrics-token-0123456789abcdef"
SERVER = """
import json, os, sys
import uvicorn
from nlq.app import create_app
from nlq.config import Settings
from store.database import DatabaseUrls
app = create_app(Settings(metrics_token=os.environ["TEST_METRICS_TOKEN"]), DatabaseUrls(**json.loads(sys.argv[1])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
SERIES = 'vanguard_http_request_seconds_count{method="GET",route="/api/pfa/{org_id}",status="2xx"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample(text: str, name_and_labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def two_servers(db, tmp_path: Path):
    seed(db.app, records=5)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = cli_env({"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "TEST_METRICS_TOKEN": TOKEN})
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(asdict(db)), str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, proc in zip(bases, procs):
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, proc.stderr.read()
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield bases, procs, metrics_dir
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_one_scrape_counts_the_requests_of_both_processes_even_after_one_stops(two_servers):
    (first, second), procs, metrics_dir = two_servers
    pids = {str(proc.pid) for proc in procs}
    bearer = {"Authorization": "Bearer " + httpx.post(f"{first}/api/auth/login", json={
        "username": "viewer_a", "password": PASSWORD}).json()["access_token"]}
    for _ in range(3):
        assert httpx.get(f"{first}/api/pfa/ORG_A", headers=bearer).status_code == 200
    for _ in range(2):
        assert httpx.get(f"{second}/api/pfa/ORG_A", headers=bearer).status_code == 200
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    for base in (first, second):  # either process answers with the sum of both
        response = httpx.get(f"{base}/metrics", headers=scrape)
        assert response.status_code == 200
        assert sample(response.text, SERIES) == 5
        assert sample(response.text, 'vanguard_mirror_records{organization="ORG_A"}') == 5  # read from PostgreSQL
    assert {name.split("_")[-1].removesuffix(".db") for name in os.listdir(metrics_dir)} == pids
    procs[1].terminate()
    procs[1].wait(timeout=15)
    assert httpx.get(f"{first}/metrics").status_code == 401
    assert httpx.get(f"{first}/metrics", headers={"Authorization": "Bearer wrong-token-0123456789abc"}).status_code == 401
    assert sample(httpx.get(f"{first}/metrics", headers=scrape).text, SERIES) == 5  # counted stays counted


def test_serve_clears_a_configured_directory_and_a_child_without_one_gets_a_fresh_shared_one(tmp_path: Path):
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "histogram_99999.db").write_bytes(b"left by an earlier run")
    (configured / "notes.txt").write_text("not ours")
    (configured / f"histogram_{os.getpid()}.db").write_bytes(b"of a process that still runs: this one")
    probe = ("import os; from nlq.metrics_dir import clear_metrics_dir; print(clear_metrics_dir()); "
             "print(os.environ['PROMETHEUS_MULTIPROC_DIR'])")
    env = cli_env({"PROMETHEUS_MULTIPROC_DIR": str(configured)})
    lines = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    assert lines == [str(configured)] * 2
    assert sorted(os.listdir(configured)) == [f"histogram_{os.getpid()}.db", "notes.txt"]
    lines = subprocess.run([sys.executable, "-c", probe], env=cli_env(), capture_output=True, text=True,
                           check=True).stdout.split()
    assert lines[0] == lines[1] and "vanguard-metrics-" in lines[0]  # exported for the processes it starts
    assert not Path(lines[0]).exists()  # and removed when the process that made it ended
