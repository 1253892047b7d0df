"""Several API processes and `vanguard worker` processes on one database, as a site runs them: real
processes, the test PostgreSQL server, and a PEMS simulator over HTTP that counts the writes it
applies. `serve --workers 2` (two API processes on one port, and the parent's scheduler), one more
`serve --no-scheduler` on a port of its own (so a test can pick the process it talks to) and two
`vanguard worker` processes share one database: three schedulers, three API processes."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from nlq.auth.ratelimit import LoginLimits
from nlq.wake import RemoteScheduler, listen
from store import accounts
from store.pems.background import BackgroundServer
from store.pems.client import PemsSettings
from store.pems.simulator import PemsSimulator
from store.sync.worker import sync_lock_key
from tests.api_fixtures import _HASH, PASSWORD
from tests.helpers import cli_env, sse_events

ORGS = ["PA", "PB", "PC"]
RECORDS = 40
USERS = {"boss": "admin", "planner": "editor", "watcher": "viewer"}
LEASE = 2  # seconds: the outbox and sync leases of every process here
WAIT = 60  # the longest any condition below is waited for, on a loaded machine
START = 240  # how long a process may take to start: importing the app alone takes seconds of CPU


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


class Cluster:
    """The processes of one site: `vanguard serve` and `vanguard worker`, each logging to a file."""

    def __init__(self, urls, sim: PemsSimulator, sim_url: str, logs: Path) -> None:
        self.urls, self.sim, self.logs = urls, sim, logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.env = cli_env({
            "VANGUARD_DATABASE_URL": urls.admin, "VANGUARD_PEMS_BASE_URL": sim_url,
            "VANGUARD_PEMS_API_KEY": sim.api_key, "VANGUARD_DEMO": "false", "PYTHONUNBUFFERED": "1",
            # Scheduled syncs only at start-up: every later run is one a test asked for or a take-over.
            "VANGUARD_SYNC_INTERVAL_MINUTES": "60", "VANGUARD_WORKER_TICK_SECONDS": "0.5",
            "VANGUARD_WRITEBACK_LEASE_SECONDS": str(LEASE), "VANGUARD_SYNC_LEASE_SECONDS": str(LEASE)})

    def start(self, name: str, *args: str, port: int | None = None) -> subprocess.Popen:
        env = {**self.env, "PGAPPNAME": name}  # each process's sessions say whose they are (pg_stat_activity)
        if port is not None:
            env["VANGUARD_PORT"] = str(port)
            self.ports[name] = port
        log = open(self.logs / f"{name}.log", "a")
        proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
        log.close()
        self.procs[name] = proc
        return proc

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_healthy(self, name: str) -> None:
        def healthy() -> bool:
            assert self.procs[name].poll() is None, self.output(name)
            try:
                return httpx.get(f"{self.url(name)}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False
        wait_for(healthy, f"{name} to answer /health", START)

    def login(self, name: str, username: str, password: str = PASSWORD) -> httpx.Response:
        return httpx.post(f"{self.url(name)}/api/auth/login", json={"username": username, "password": password},
                          timeout=30)

    def bearer(self, name: str, username: str) -> dict[str, str]:
        response = self.login(name, username)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def query(urls, statement: str, params=()) -> list[tuple]:
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def read_runs(urls, org: str) -> list[tuple]:
    return query(urls, "SELECT id, status, error FROM vanguard.sync_runs WHERE organization_id = %s"
                       " AND direction = 'read' ORDER BY id", (org,))


def lock_holder(urls, org: str) -> str | None:
    """The application name of the session holding `org`'s sync lock (a session advisory lock)."""
    rows = query(urls, "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid"
                       " WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database"
                       " WHERE datname = current_database())"
                       " AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(%s, 0)",
                 (sync_lock_key(org),))
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def cluster(database_factory, tmp_path_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        for org in ORGS:
            accounts.upsert_organization(conn, org, f"Site {org}")
        for username, role in USERS.items():
            user_id = accounts.insert_user(conn, username, _HASH, username)
            for org in ORGS:
                accounts.upsert_membership(conn, user_id, org, role)
    sim = PemsSimulator(ORGS, RECORDS, seed=5)
    server = BackgroundServer(sim.app(), date_header=False)
    site = Cluster(urls, sim, server.start(), tmp_path_factory.mktemp("procs"))
    try:
        site.start("multi", "serve", "--workers", "2", port=free_port())
        site.start("api1", "serve", "--no-scheduler", port=free_port())
        site.start("w1", "worker")
        site.start("w2", "worker")
        site.wait_healthy("multi")
        site.wait_healthy("api1")
        wait_for(lambda: all(any(s == "succeeded" for _, s, _ in read_runs(urls, org)) for org in ORGS),
                 "the first sync of every organization")
        yield site
    finally:
        site.stop_all()
        server.stop()


def test_each_organization_is_synced_once_however_many_workers_look(cluster):
    time.sleep(2)  # four ticks of each scheduler: all find the organizations synced, none syncs again
    for org in ORGS:
        assert [s for _, s, _ in read_runs(cluster.urls, org)] == ["succeeded"], org
    # "Sync now" through an API process that runs no scheduler: one more run each, by one scheduler.
    response = httpx.post(f"{cluster.url('api1')}/api/sync", json={}, headers=cluster.bearer("api1", "boss"), timeout=30)
    assert response.status_code == 202, response.text
    wait_for(lambda: all(len(read_runs(cluster.urls, org)) == 2 and read_runs(cluster.urls, org)[-1][1] == "succeeded"
                         for org in ORGS), "the requested syncs")
    time.sleep(2)
    for org in ORGS:
        assert [s for _, s, _ in read_runs(cluster.urls, org)] == ["succeeded", "succeeded"], org


def test_each_outbox_item_is_written_to_pems_once(cluster):
    cluster.sim.faults.latency_ms = 20  # deliveries overlap the other commit's
    records = {org: [r for (r,) in query(cluster.urls, "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = %s"
                                                       " ORDER BY id LIMIT 8", (org,))] for org in ("PA", "PB")}
    writes_before = cluster.sim.writes

    def edit_and_commit(api: str, org: str) -> None:
        headers = cluster.bearer(api, "planner")
        for n, record in enumerate(records[org]):
            saved = httpx.post(f"{cluster.url(api)}/api/pfa/{org}/drafts", headers=headers, timeout=30,
                               json={"record_id": record, "changes": {"area": f"Yard {n}"}})
            assert saved.status_code == 200, saved.text
        committed = httpx.post(f"{cluster.url(api)}/api/pfa/{org}/commit", json={}, headers=headers, timeout=30)
        assert committed.status_code == 200 and len(committed.json()["committed"]) == 8, committed.text

    try:
        threads = [threading.Thread(target=edit_and_commit, args=args) for args in (("api1", "PA"), ("multi", "PB"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(lambda: query(cluster.urls, "SELECT count(*) FROM vanguard.pfa_draft WHERE state = 'synced'")[0][0] == 16,
                 "every committed draft to be synced")
    finally:
        cluster.sim.faults.latency_ms = 0
    assert cluster.sim.writes - writes_before == 16
    assert {key: n for key, n in cluster.sim.write_counts.items()} == {
        (org, record): 1 for org, ids in records.items() for record in ids}
    # (A row may change hands if its lease ran out while its batch was sent: still written once.)
    assert query(cluster.urls, "SELECT status FROM vanguard.writeback_outbox") == [("done",)] * 16
    schedulers = {cluster.procs[name].pid for name in ("w1", "w2", "multi")}
    claimers = {int(c.split(":")[1]) for (c,) in query(cluster.urls, "SELECT claimed_by FROM vanguard.writeback_outbox")}
    assert claimers <= schedulers  # never an API process of `serve --workers 2`


def test_login_limits_are_shared_by_the_api_processes(cluster):
    free = LoginLimits().user_free
    guesses = 2 * free + 2
    statuses: dict[int, int] = {}

    def guess(n: int) -> None:
        statuses[n] = cluster.login(("api1", "multi")[n % 2], "watcher", f"guess-{n}").status_code

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A burst on three processes at once. Counted per process, each port would verify at least
    # `free` guesses; counted once for all, the free attempts are shared (plus one per doubling
    # delay that ran out while the burst lasted, on a slow machine), and each port refuses some.
    verified = [n for n, status in statuses.items() if status == 401]
    assert set(statuses.values()) == {401, 429} and free <= len(verified) < 2 * free, statuses
    for api in (0, 1):
        assert 429 in [status for n, status in statuses.items() if n % 2 == api], statuses
    (counted,) = query(cluster.urls, "SELECT failures FROM vanguard.login_attempts WHERE kind = 'user' AND key = 'watcher'")
    assert counted == (len(verified),)


def test_a_token_revoked_through_one_process_is_refused_by_the_others_at_once(cluster):
    for revoker, other in (("api1", "multi"), ("multi", "api1")):
        headers = cluster.bearer(other, "planner")
        assert httpx.get(f"{cluster.url(revoker)}/api/auth/me", headers=headers, timeout=30).status_code == 200
        assert httpx.post(f"{cluster.url(revoker)}/api/auth/logout", headers=headers, timeout=30).status_code == 204
        for _ in range(3):  # on `multi`, connections reach either of its two processes
            assert httpx.get(f"{cluster.url(other)}/api/auth/me", headers=headers, timeout=30).status_code == 401


async def test_a_wake_up_from_an_api_process_reaches_every_listening_scheduler(db):
    woken = [asyncio.Event(), asyncio.Event()]
    listeners = [asyncio.create_task(listen(db.app, event.set)) for event in woken]
    try:
        await asyncio.sleep(1)  # both LISTEN before the notification is sent
        async with AsyncConnectionPool(db.app, min_size=1, max_size=1, open=False) as pool:
            RemoteScheduler(pool, PemsSettings(base_url="", name="PEMS")).wake()
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in woken)), timeout=20)
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)


def test_serve_with_two_workers_serves_pages_and_an_answer_and_stops_cleanly(cluster):
    serve = cluster.procs["multi"]
    children = [p for p in psutil.Process(serve.pid).children() if "multiprocessing.spawn" in " ".join(p.cmdline())]
    assert len(children) == 2, cluster.output("multi")
    base = cluster.url("multi")
    with httpx.Client(base_url=base, timeout=60) as browser:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/login").text).group(1)
        logged_in = browser.post("/login", data={"csrf": csrf, "username": "boss", "password": PASSWORD, "next": ""})
        assert logged_in.status_code == 303, logged_in.text
        page = browser.get("/o/PA/chat")
        assert page.status_code == 200 and "<html" in page.text
    headers = cluster.bearer("multi", "planner")
    answers = []
    for _ in range(4):  # connections are spread over the two processes: each must answer the same
        response = httpx.post(f"{base}/api/ai/query", headers=headers, timeout=60,
                              json={"org_id": "PC", "question": "how many records are there in total?"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.text)
        assert [n for n, _ in events][-1] == "done", response.text
        answers.append([r for n, d in events if n == "rows" for r in d.get("rows", [])])
    assert answers == [[[RECORDS]]] * 4
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=60) == 0, cluster.output("multi")
    output = cluster.output("multi")
    assert "stopping (SIGTERM) ..." in output and "PFA Vanguard stopped (SIGTERM)" in output
    assert "Traceback" not in output
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)


def test_a_killed_workers_sync_and_outbox_claims_are_taken_over_after_the_lease(cluster):
    """After the test above stopped `serve --workers 2`: the workers are the only schedulers."""
    urls, sim = cluster.urls, cluster.sim
    assert cluster.procs["multi"].poll() is not None
    # A sync in the middle of its read when its worker is killed.
    sim.faults.latency_ms = 1500
    try:
        runs_before = len(read_runs(urls, "PA"))
        response = httpx.post(f"{cluster.url('api1')}/api/pfa/PA/sync", json={}, headers=cluster.bearer("api1", "boss"),
                              timeout=30)
        assert response.status_code == 202, response.text
        victim = wait_for(lambda: lock_holder(urls, "PA"), "a worker to start the sync of PA")
        abandoned = read_runs(urls, "PA")[-1][0]
        assert len(read_runs(urls, "PA")) == runs_before + 1
        cluster.procs[victim].send_signal(signal.SIGKILL)
        cluster.procs[victim].wait(timeout=30)
        wait_for(lambda: any(i > abandoned and s == "succeeded" for i, s, _ in read_runs(urls, "PA")),
                 "the other worker to take the sync over")
    finally:
        sim.faults.latency_ms = 0
    (run,) = [r for r in read_runs(urls, "PA") if r[0] == abandoned]
    assert run[1] == "failed" and run[2].startswith("abandoned"), run
    survivor = ({"w1", "w2"} - {victim}).pop()
    assert lock_holder(urls, "PA") is None and cluster.procs[survivor].poll() is None

    # An outbox row in flight when its worker is killed: a second worker joins, the first is killed.
    cluster.start(victim, "worker")
    record = query(urls, "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'PC' ORDER BY id LIMIT 1")[0][0]
    headers = cluster.bearer("api1", "planner")
    sim.faults.latency_ms = 4000
    try:
        saved = httpx.post(f"{cluster.url('api1')}/api/pfa/PC/drafts", headers=headers, timeout=30,
                           json={"record_id": record, "changes": {"area": "Taken over"}})
        assert saved.status_code == 200, saved.text
        assert httpx.post(f"{cluster.url('api1')}/api/pfa/PC/commit", json={}, headers=headers,
                          timeout=30).status_code == 200
        claimed = wait_for(lambda: query(urls, "SELECT claimed_by FROM vanguard.writeback_outbox"
                                               " WHERE organization_id = 'PC' AND record_id = %s"
                                               " AND status = 'in_flight' AND key_sent_at IS NOT NULL", (record,)),
                           "a worker to send the write")
        pid = int(claimed[0][0].split(":")[1])
        (sender,) = [name for name in ("w1", "w2") if cluster.procs[name].pid == pid]
        cluster.procs[sender].send_signal(signal.SIGKILL)
        cluster.procs[sender].wait(timeout=30)
    finally:
        sim.faults.latency_ms = 0
    wait_for(lambda: query(urls, "SELECT state FROM vanguard.pfa_draft WHERE record_id = %s AND organization_id = 'PC'",
                           (record,)) == [("synced",)], "the other worker to deliver the write")
    (row,) = query(urls, "SELECT claimed_by, attempts, status FROM vanguard.writeback_outbox"
                         " WHERE organization_id = 'PC' AND record_id = %s", (record,))
    other = ({"w1", "w2"} - {sender}).pop()
    assert int(row[0].split(":")[1]) == cluster.procs[other].pid and row[1:] == (2, "done"), row
    assert sim.write_counts[("PC", record)] == 1
