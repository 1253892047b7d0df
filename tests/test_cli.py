"""The `vanguard` command line, run as a user would run it (a real process, a real database)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from psycopg import sql
from psycopg.conninfo import make_conninfo

from store.embedded import EmbeddedPostgres
from store.migrate import list_migrations
from tests.helpers import HARNESS_ENV, cli_env


def vanguard(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env),
                          capture_output=True, text=True, timeout=timeout)


def test_cli_env_keeps_the_harness_passwords_and_drops_the_developers_settings(monkeypatch):
    monkeypatch.setenv("VANGUARD_PORT", "1")
    monkeypatch.setenv("VANGUARD_APP_DB_PASSWORD", "a developer's own")
    monkeypatch.setitem(HARNESS_ENV, "VANGUARD_APP_DB_PASSWORD", "from the harness")
    monkeypatch.setitem(HARNESS_ENV, "VANGUARD_READER_DB_PASSWORD", "reader, from the harness")
    env = cli_env({"VANGUARD_DATABASE_URL": "postgresql://x"})
    assert "VANGUARD_PORT" not in env and env["VANGUARD_DATABASE_URL"] == "postgresql://x"
    assert env["VANGUARD_APP_DB_PASSWORD"] == "from the harness"
    assert env["VANGUARD_READER_DB_PASSWORD"] == "reader, from the harness"


# CLI tests that connect as the app and reader roles (bootstrap, seed, users, an NL question).
ROLE_TESTS = ["test_db_upgrade_applies_then_reports_up_to_date", "test_seed_loads_into_the_configured_database",
              "test_users_add_list_and_set_role", "test_ask_prints_sql_explanation_and_a_table"]


def test_cli_tests_pass_against_a_server_with_password_authentication():
    """The README's VANGUARD_TEST_DATABASE_URL setup with scram-sha-256: the harness sets role
    passwords, and each `vanguard` subprocess must be given them to connect as those roles."""
    # Not under tmp_path: the nested pytest run prunes old basetemps, this server's data included.
    parent = Path(tempfile.mkdtemp(prefix="vanguard-scram-"))
    server = EmbeddedPostgres(parent / "pgdata", temporary=True)
    admin = server.start()
    try:
        password = secrets.token_urlsafe(16)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(conn.info.user),
                                                                     sql.Literal(password)))
            Path(conn.execute("SHOW hba_file").fetchone()[0]).write_text("local all all scram-sha-256\n")
            conn.execute("SELECT pg_reload_conf()")
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(admin).close()
        env = {**cli_env(), "VANGUARD_TEST_DATABASE_URL": make_conninfo(admin, password=password)}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                                 "-k", " or ".join(ROLE_TESTS)], env=env, cwd=Path(__file__).parent.parent,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-12000:]
        assert f"{len(ROLE_TESTS)} passed" in result.stdout
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


def test_help_lists_the_commands():
    result = vanguard("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "seed", "sync", "pems-sim", "orgs", "users", "ask", "guard", "bench", "eval"):
        assert command in result.stdout


def test_db_upgrade_applies_then_reports_up_to_date(empty_db):
    env = {"VANGUARD_DATABASE_URL": empty_db.admin}
    first = vanguard("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"applied {len(list_migrations())} migration(s): 0001_accounts")
    second = vanguard("db", "upgrade", env=env)
    assert second.returncode == 0 and second.stdout.strip() == "database is up to date"


@pytest.mark.parametrize("args, message", [
    (("seed", "--records", "0"), "must be between 1 and 2,000,000"),
    (("seed", "--orgs", "many"), "'many' is not a whole number"),
    (("db",), "required"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_arguments_are_explained(args, message):
    result = vanguard(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_invalid_configuration_is_explained():
    result = vanguard("db", "upgrade", env={"VANGUARD_PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip() == ("vanguard: invalid configuration: VANGUARD_PORT: Input should be a valid integer, "
                                     "unable to parse string as an integer (got 'eighty')")


def test_an_unreachable_database_is_a_clear_error():
    result = vanguard("db", "upgrade", env={"VANGUARD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "cannot connect to the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_loads_into_the_configured_database(db):
    result = vanguard("seed", "--orgs", "2", "--records", "150", env={"VANGUARD_DATABASE_URL": db.admin})
    assert result.returncode == 0, result.stderr
    assert "seeded 2 organization(s) x 150 records" in result.stdout
    with psycopg.connect(db.app) as conn:
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_mirror").fetchone() == (300,)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_zero_configuration(tmp_path: Path):
    """The README's first command: embedded database, migrations, demo data, health — then a clean stop."""
    port = free_port()
    env = cli_env({"VANGUARD_PORT": str(port), "VANGUARD_DEMO_RECORDS": "200"})
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert health.status_code == 200
        assert health.json().keys() == {"status"}  # without a login, nothing more
        token = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", timeout=10,
                           json={"username": "admin", "password": "vanguard-admin"}).json()["access_token"]
        detail = httpx.get(f"http://127.0.0.1:{port}/health?detail=true", timeout=5,
                           headers={"Authorization": f"Bearer {token}"}).json()
        assert detail["schema_version"] == list_migrations()[-1].version
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "demo logins: admin / vanguard-admin (admin)" in output
    assert "PEMS: built-in simulator" in output
    assert "LLM: offline parser (no model endpoint configured" in output
    assert output.count("full sync succeeded: 200 read, 200 inserted") == 3
    pgdata = tmp_path / ".vanguard" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server was left running"


def serve_until_healthy(env: dict[str, str], cwd: Path) -> str:
    """Start `vanguard serve`, wait for /health, stop it with Ctrl-C; return what it printed."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VANGUARD_")}
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve"], cwd=cwd, env={**clean, **env, "VANGUARD_PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    return output


def test_a_restart_of_serve_syncs_only_what_the_recorded_runs_say_is_due(db, tmp_path: Path):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DEMO_RECORDS": "100", "VANGUARD_DEMO_ORGS": "2",
           "VANGUARD_PEMS": "simulator"}
    first = serve_until_healthy(env, tmp_path)
    assert first.count("full sync succeeded: 100 read, 100 inserted") == 2
    second = serve_until_healthy(env, tmp_path)
    assert "sync succeeded" not in second and "no organization is due for a sync" in second
    with psycopg.connect(db.app) as conn:
        runs = conn.execute("SELECT count(*) FROM vanguard.sync_runs WHERE direction = 'read'").fetchone()[0]
    assert runs == 2, "the second start (and its scheduler) synced again"


def vanguard_stdin(text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], input=text, env=cli_env(),
                          capture_output=True, text=True, timeout=60)


def test_guard_prints_an_allowed_verdict_and_exits_0():
    result = vanguard_stdin("SELECT count(*) FROM pfa_merged WHERE area = 'Camp'", "guard", "--org", "ORG_A")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["allowed"] is True
    assert "organization_id = 'ORG_A'" in verdict["sql"]
    assert verdict["scope"]["limit"] == 1000


def test_guard_prints_reasons_and_exits_1():
    result = vanguard_stdin("SELECT pg_sleep(5)", "guard", "--org", "ORG_A", "--max-rows", "5")
    assert result.returncode == 1
    assert json.loads(result.stdout)["reasons"][0]["code"] == "forbidden_function"


@pytest.mark.parametrize("args, text, code, message", [
    (("guard",), "SELECT 1", 2, "--org"),
    (("guard", "--org", "ORG_A", "--max-rows", "0"), "SELECT 1", 2, "must be between"),
    (("guard", "--org", "ORG_A"), "x" * 100_001, 2, "longer than 100,000"),
])
def test_guard_bad_input_is_explained(args, text, code, message):
    result = vanguard_stdin(text, *args)
    assert result.returncode == code
    assert message in result.stderr


def test_guard_refuses_a_bad_organization_as_a_verdict():
    result = vanguard_stdin("SELECT 1 FROM pfa_merged", "guard", "--org", "ORG'B")
    assert result.returncode == 1
    assert json.loads(result.stdout)["reasons"][0]["code"] == "invalid_organization"


def test_bench_guard_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = vanguard("bench", "--only", "guard", "--runs", "5", "--json", str(out))
    assert "guardrails.check (benign corpus)" in result.stdout and "machine:" in result.stdout
    data = json.loads(out.read_text())
    names = [r["name"] for r in data["results"]]
    assert names == ["guardrails.check (benign corpus)", "sqlglot.parse (same statements)", "check / parse ratio"]
    assert all(r["median"] > 0 for r in data["results"])


def test_bench_smoke_run_measures_every_item(tmp_path):
    """The whole harness on about 20,000 records: every item is measured and the load run has no
    errors. Speed is not judged here (that is `vanguard bench` on the full dataset), so the exit
    status may be 0 or 1, never a crash."""
    out = tmp_path / "smoke.json"
    result = vanguard("bench", "--records", "20000", "--orgs", "4", "--drafts", "1000", "--runs", "5",
                      "--sync-records", "5000", "--clients", "5", "--load-seconds", "4", "--json", str(out), timeout=600)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    expected = ["guardrails.check (benign corpus)", "sync: full ingest of 5,000 records over HTTP",
                "NL overhead to first rows (20,000 records)", "page of 100, two filters (with drafts)",
                "filtered count (two filters, with drafts)", "one-month forecast range, page of 100",
                "KPIs with drafts", "timeline bounds with drafts", "timeline first screen by category",
                "timeline first screen by area", "save one draft", "batch of 1,000 drafts",
                "commit of 1,000 drafts (local part, 3 runs)", "export of one organization (JSON lines)",
                "load: page reads", "load: draft saves", "load: NL questions (offline model)",
                "matrix by category, 12 months (with drafts)", "matrix by area, 36 months (with drafts)"]
    for name in expected:
        assert name in results and results[name]["median"] > 0, name
    for name in ("page of 100, two filters (with drafts)", "KPIs with drafts"):
        assert "HTTP/SQL" in results[name]["note"]
    faults = results["faults (reads): mismatches in 7 sync runs"]  # 5 drawn runs and two quiet ones
    assert faults["median"] == 0 and faults["passed"] is True, faults["note"]
    writes = results["faults (writes): mismatches in 40 drafts"]
    assert writes["median"] == 0 and writes["passed"] is True, writes["note"]
    assert "other organization's question, one user flooding" in results
    load = results["load: 5 clients for 4 s, errors"]
    assert load["median"] == 0 and load["passed"] is True, load["note"]
    assert all(line in result.stdout for line in ("machine:", "load: page reads"))


def test_bench_refuses_a_dataset_too_small_for_the_api_items():
    result = vanguard("bench", "--only", "api", "--records", "10000", "--orgs", "20")
    assert result.returncode == 2 and "at least 2,000 records per organization" in result.stderr


def test_orgs_and_sync_against_the_built_in_simulator(db):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DEMO_RECORDS": "120", "VANGUARD_PEMS": "simulator"}
    nothing = vanguard("sync", env=env)
    assert nothing.returncode == 0 and "no organizations registered" in nothing.stdout
    assert vanguard("orgs", "add", "HOLNG", "--name", "Demo", env=env).returncode == 0
    assert vanguard("orgs", "list", env=env).stdout.strip() == "HOLNG\tDemo"
    first = vanguard("sync", env=env)
    assert first.returncode == 0, first.stderr
    assert "HOLNG: full sync succeeded: 120 read, 120 inserted" in first.stdout
    full = vanguard("sync", "--org", "HOLNG", "--full", env=env)
    assert "full sync succeeded: 120 read, 0 inserted, 0 updated, 120 unchanged, 0 deleted" in full.stdout
    unknown = vanguard("sync", "--org", "NOPE", env=env)
    assert unknown.returncode == 1 and "not registered: NOPE" in unknown.stderr


def test_sync_against_an_unreachable_pems_fails_clearly(db):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_PEMS_BASE_URL": "http://127.0.0.1:1",
           "VANGUARD_PEMS_API_KEY": "x", "VANGUARD_PEMS_TIMEOUT_SECONDS": "0.5"}
    assert vanguard("orgs", "add", "HOLNG", env=env).returncode == 0
    result = vanguard("sync", env=env)
    assert result.returncode == 1
    assert "sync failed" in result.stdout and "connection failed" in result.stdout
    assert "Traceback" not in result.stderr


def test_pems_sim_serves_the_grid(tmp_path):
    from store.pems.client import PemsClient, PemsSettings
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "pems-sim", "--orgs", "2", "--records", "50",
                             "--port", str(port), "--api-key", "k"], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = PemsClient(PemsSettings(f"http://127.0.0.1:{port}", api_key="k", max_attempts=20,
                                         backoff_seconds=0.1))
        rows = [r for page in client.iter_rows("RIOT") for r in page]
        assert len(rows) == 50 and rows[0].record["organization"] == "RIOT"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_ask_prints_sql_explanation_and_a_table(db):
    env = {"VANGUARD_DATABASE_URL": db.admin}
    assert vanguard("seed", "--orgs", "1", "--records", "200", env=env).returncode == 0
    result = vanguard("ask", "--org", "HOLNG", "--user", "planner", "how many cranes are rented?", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("SQL: SELECT COUNT(*) AS records FROM (SELECT * FROM nlq.pfa_merged WHERE organization_id = 'HOLNG')")
    assert "records\n-------" in result.stdout and "1 row, audit #1" in result.stdout
    refused = vanguard("ask", "--org", "HOLNG", "--user", "planner", "sing me a song", env=env)
    assert refused.returncode == 1 and "not_understood" in refused.stderr and "'sing'" in refused.stderr
    outsider = vanguard("ask", "--org", "RIOT", "--user", "viewer", "how many cranes?", env=env)
    assert outsider.returncode == 1 and "not a member of RIOT" in outsider.stderr
    nobody = vanguard("ask", "--org", "HOLNG", "--user", "ghost", "x", env=env)
    assert nobody.returncode == 1 and "does not exist" in nobody.stderr


def test_users_add_list_and_set_role(db):
    env = {"VANGUARD_DATABASE_URL": db.admin}
    assert vanguard("orgs", "add", "HOLNG", env=env).returncode == 0
    added = subprocess.run([sys.executable, "-m", "nlq.cli", "users", "add", "dana", "--org", "HOLNG", "--role", "editor",
                            "--password-stdin"], input="long-enough-pw\n", capture_output=True, text=True,
                           env=cli_env(env))
    assert added.returncode == 0 and "dana created (editor in HOLNG)" in added.stdout
    assert "dana\tdana\tactive\tHOLNG:editor" in vanguard("users", "list", env=env).stdout
    assert vanguard("users", "set-role", "dana", "HOLNG", "admin", env=env).returncode == 0
    assert "HOLNG:admin" in vanguard("users", "list", env=env).stdout
    with psycopg.connect(db.app) as conn:
        from nlq.auth.passwords import verify_password
        stored = conn.execute("SELECT password_hash FROM vanguard.users WHERE username = 'dana'").fetchone()[0]
    assert verify_password(stored, "long-enough-pw") and stored.startswith("$argon2id$")


@pytest.mark.parametrize("args, stdin, message", [
    (("users", "add", "eve", "--password-stdin"), "short\n", "8 to 256 characters"),
    (("users", "add", "bad name", "--password-stdin"), "long-enough-pw\n", "use 1-64 letters"),
    (("users", "add", "eve", "--org", "NOPE", "--password-stdin"), "long-enough-pw\n", "NOPE is not registered"),
    (("users", "set-role", "ghost", "HOLNG", "admin"), "", "ghost does not exist"),
    (("users", "set-role", "dana", "HOLNG", "king"), "", "invalid choice"),
])
def test_users_bad_input_is_explained(db, args, stdin, message):
    env = {"VANGUARD_DATABASE_URL": db.admin}
    vanguard("orgs", "add", "HOLNG", env=env)
    result = subprocess.run([sys.executable, "-m", "nlq.cli", *args], input=stdin, capture_output=True, text=True,
                            env=cli_env(env))
    assert result.returncode in (1, 2) and message in result.stderr, result.stderr


def test_ask_bulk_prints_the_preview(db):
    env = {"VANGUARD_DATABASE_URL": db.admin}
    assert vanguard("seed", "--orgs", "1", "--records", "150", env=env).returncode == 0
    result = vanguard("ask", "--bulk", "--org", "HOLNG", "--user", "planner", "extend all concrete equipment by 2 weeks",
                      env=env)
    assert result.returncode == 0, result.stderr
    assert "Change: forecastEnd shift_days 14" in result.stdout and "awaits review" in result.stdout
    assert "record" in result.stdout and "forecastEnd" in result.stdout
    refused = vanguard("ask", "--bulk", "--org", "HOLNG", "--user", "planner", "improve things", env=env)
    assert refused.returncode == 1 and "not_understood" in refused.stderr
