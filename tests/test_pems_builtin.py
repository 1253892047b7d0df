"""The built-in PEMS as a user meets it: `vanguard serve`, `vanguard sync` and `vanguard pems-sim`
as separate processes over one data directory (its embedded PostgreSQL), all talking to one PEMS
that remembers what was written to it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

from store.pems.client import PemsClient, PemsSettings
from store.pems.sim_store import sim_database_name
from tests.helpers import add_org, cli_env

ORG = "HOLNG"
RECORDS = 40


def vanguard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env), capture_output=True, text=True,
                          timeout=180)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serving:
    """`vanguard serve` in a subprocess, its output collected as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve"], cwd=cwd,
                                     env={**env, "VANGUARD_PORT": str(self.port)},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise AssertionError(f"serve did not start: {self.output}")

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def pems_url(self) -> str:
        """The loopback URL the server's built-in simulator listens on (from its start-up line)."""
        match = re.search(r"PEMS: built-in simulator of .* \(on (http://127\.0\.0\.1:\d+)\)", self.output)
        assert match, self.output
        return match.group(1)

    def login(self, username: str, password: str) -> dict[str, str]:
        token = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": password},
                           timeout=10).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        assert self.proc.returncode == 0, self.output
        return self.output


def commit_and_wait_synced(server: Serving, record_id: str, changes: dict) -> None:
    auth = server.login("planner", "vanguard-planner")
    saved = httpx.post(f"{server.url}/api/pfa/{ORG}/drafts", headers=auth, timeout=10,
                       json={"record_id": record_id, "changes": changes})
    assert saved.status_code == 200, saved.text
    commit = httpx.post(f"{server.url}/api/pfa/{ORG}/commit", headers=auth, json={}, timeout=10).json()
    assert commit["committed"] == [record_id], commit
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/api/pfa/{ORG}/commits/{commit['commit_id']}", headers=auth, timeout=10).json()
        if status["counts"].get("synced") == 1:
            return
        time.sleep(0.5)
    raise AssertionError(f"the commit was not written back: {status}")


def test_a_committed_draft_survives_restarts_and_syncs_from_every_process(tmp_path: Path):
    """The issue's walk-through: commit (Silo 4 / 2029-06-30) -> synced -> stop -> `vanguard sync
    --full` from the CLI changes nothing; a restarted server and a CLI sync next to it see one PEMS;
    `vanguard pems-sim --durable` serves that same PEMS."""
    data_dir = tmp_path / "data"
    env = cli_env({"VANGUARD_DATA_DIR": str(data_dir), "VANGUARD_DEMO_ORGS": "1",
                   "VANGUARD_DEMO_RECORDS": str(RECORDS)})
    label = f"built-in simulator of {data_dir.resolve()}"
    changes = {"area": "Silo 4", "forecastEnd": "2029-06-30"}

    first = Serving(env, tmp_path)
    try:
        commit_and_wait_synced(first, "PFA-0000002", changes)
    finally:
        first.stop()
    assert f"PEMS: {label} (on http://127.0.0.1:" in first.output
    assert not (data_dir / "pgdata" / "postmaster.pid").exists(), "the embedded server was left running"

    # A new process, and a restart of the embedded server: the PEMS still holds the write.
    full = vanguard("sync", "--full", env=env)
    assert full.returncode == 0, full.stdout + full.stderr
    assert f"PEMS: {label}" in full.stdout
    assert (f"{ORG}: full sync succeeded: {RECORDS} read, 0 inserted, 0 updated, {RECORDS} unchanged, 0 deleted"
            in full.stdout), full.stdout

    second = Serving(env, tmp_path)
    try:
        auth = second.login("admin", "vanguard-admin")
        record = httpx.get(f"{second.url}/api/pfa/{ORG}/records/PFA-0000002", headers=auth, timeout=10).json()
        assert (record["area"], record["forecast_end"]) == ("Silo 4", "2029-06-30"), record
        pems_url = second.pems_url()
        edited = httpx.post(f"{pems_url}/_control/edit", timeout=10,
                            json={"org": ORG, "id": "PFA-0000005", "changes": {"area": "Tank Farm 9"}})
        assert edited.json()["recordid"] == 2
        # A CLI sync while the server runs: exactly what PEMS changed (the edit through the
        # server's simulator), nothing else.
        incremental = vanguard("sync", env=env)
        assert incremental.returncode == 0, incremental.stdout + incremental.stderr
        assert re.search(rf"{ORG}: incremental sync succeeded: \d+ read, 0 inserted, 1 updated, \d+ unchanged, 0 deleted",
                         incremental.stdout), incremental.stdout
        monitor = httpx.get(f"{second.url}/api/pfa/{ORG}/sync", headers=auth, timeout=10).json()
        assert monitor["worker"]["pems"] == label
        assert {run["pems"] for run in monitor["runs"]} == {label}, monitor["runs"]

        # `vanguard pems-sim --durable`: a third process serving the same PEMS over HTTP.
        port = free_port()
        sim = subprocess.Popen([sys.executable, "-m", "nlq.cli", "pems-sim", "--durable", "--port", str(port),
                                "--api-key", "k"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        try:
            client = PemsClient(PemsSettings(f"http://127.0.0.1:{port}", api_key="k", max_attempts=40,
                                             backoff_seconds=0.25))
            rows = {row.record_id: row for row in client.read_records(ORG, ["PFA-0000002", "PFA-0000005"])}
            client.close()
        finally:
            sim.send_signal(signal.SIGINT)
            sim_output, _ = sim.communicate(timeout=30)
        assert {k: rows["PFA-0000002"].record[k] for k in changes} == changes
        assert rows["PFA-0000005"].record["area"] == "Tank Farm 9" and rows["PFA-0000005"].pems_record_id == 2
        assert f"PEMS: {label} on http://127.0.0.1:{port}" in sim_output
    finally:
        second.stop()


def test_the_builtin_pems_of_a_configured_database_lives_in_its_own_database_beside_it(db):
    """With VANGUARD_DATABASE_URL, the state is a database beside the app's on that server, and
    `vanguard pems-sim --reset` puts it back to the seed."""
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DEMO_RECORDS": "25", "VANGUARD_PEMS": "simulator"}
    name = sim_database_name(psycopg.conninfo.conninfo_to_dict(db.admin)["dbname"])
    with psycopg.connect(db.app, autocommit=True) as conn:
        add_org(conn, ORG)
    first = vanguard("sync", env=env)
    assert f"PEMS: built-in simulator in database {name} on " in first.stdout, first.stdout
    assert f"{ORG}: full sync succeeded: 25 read, 25 inserted" in first.stdout
    pems_db = psycopg.conninfo.make_conninfo(db.admin, dbname=name)
    with psycopg.connect(pems_db) as conn:
        seeded = conn.execute("SELECT data FROM pems.records WHERE id = 'PFA-0000003' AND organization = %s",
                              (ORG,)).fetchone()[0]
        conn.execute("UPDATE pems.records SET data = data || '{\"area\": \"Moved\"}', recordid = 2"
                     " WHERE id = 'PFA-0000003' AND organization = %s", (ORG,))
    reset = vanguard("pems-sim", "--reset", env=env)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert f"built-in simulator in database {name} on " in reset.stdout
    assert ": reset to 3 organization(s) x 25 records (seed 7)" in reset.stdout
    with psycopg.connect(pems_db) as conn:
        assert conn.execute("SELECT data, recordid FROM pems.records WHERE id = 'PFA-0000003'"
                            " AND organization = %s", (ORG,)).fetchone() == (seeded, 1)
    again = vanguard("sync", "--full", env=env)
    assert "25 read, 0 inserted, 0 updated, 25 unchanged, 0 deleted" in again.stdout, again.stdout
