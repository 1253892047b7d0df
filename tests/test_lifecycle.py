"""Starting and stopping `vanguard serve` as Docker, systemd, `kill` and Ctrl-C do: real processes,
the embedded PostgreSQL server in a temporary data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from store.embedded import EmbeddedPostgres
from tests.helpers import cli_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen:
    environment = cli_env({"VANGUARD_PORT": str(port), "VANGUARD_DEMO_ORGS": "1", "VANGUARD_DEMO_RECORDS": "50",
                           "PYTHONUNBUFFERED": "1", **env})
    environment.pop("VANGUARD_AUDIT_KEY", None)  # the key file in the data directory, as a user gets it
    return subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve"], cwd=tmp_path, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_healthy(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"vanguard serve did not become healthy: {proc.communicate()[0]}")


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def assert_stopped(pid: int, pgdata: Path) -> None:
    """Stopped: no postmaster.pid, and the process gone within a few seconds (the postmaster removes
    its pid file just before it exits, so it may still be finishing when `pg_ctl stop` returns)."""
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server was left running"
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def stop_leftover(pid: int) -> None:
    """A failing test must not leave a postmaster behind for the rest of the suite."""
    if psutil.pid_exists(pid):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_service_and_the_embedded_server_once(tmp_path: Path, signum):
    port = free_port()
    proc = start_serve(tmp_path, port, VANGUARD_LOG_LEVEL="info")  # uvicorn's closing lines are INFO
    wait_healthy(proc, port)
    pgdata = tmp_path / ".vanguard" / "pgdata"
    pid = postmaster_pid(pgdata)
    try:
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, output
        assert_stopped(pid, pgdata)
    finally:
        stop_leftover(pid)
    for line in ("Shutting down", "Application shutdown complete", "Finished server process"):
        assert output.count(line) == 1, output
    name = signal.Signals(signum).name
    assert output.count(f"stopping ({name}) ...") == 1 and output.count(f"PFA Vanguard stopped ({name})") == 1
    assert "Traceback" not in output


def test_sigterm_during_the_start_up_work_still_stops_the_embedded_server(tmp_path: Path):
    """SIGTERM while the first sync runs (before the HTTP server): 143, as a shell reports it, and
    no server left behind."""
    port = free_port()
    proc = start_serve(tmp_path, port, VANGUARD_DEMO_RECORDS="30000")
    pgdata = tmp_path / ".vanguard" / "pgdata"
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("PEMS: built-in simulator"):
            break
    pid = postmaster_pid(pgdata)
    try:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM, "".join(lines) + output
        assert "PFA Vanguard on" not in output, "the signal came too late to test the start-up work"
        assert "INFO" not in "".join(lines) + output, "library log lines at the default level"
        assert_stopped(pid, pgdata)
    finally:
        stop_leftover(pid)
    assert "Traceback" not in output


def test_a_busy_port_fails_first_in_one_line(tmp_path: Path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        proc = start_serve(tmp_path, port)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, output
    assert output.strip().splitlines() == [
        f"vanguard: port {port} on 127.0.0.1 is already in use (another `vanguard serve`?); "
        "choose another with --port or VANGUARD_PORT"]
    assert not (tmp_path / ".vanguard").exists(), "work was done before the port was checked"


def test_an_address_that_cannot_be_listened_on_is_a_configuration_error(tmp_path: Path):
    # No demo users: on a non-loopback name they would be refused first, by the production guard.
    proc = start_serve(tmp_path, free_port(), VANGUARD_HOST="no-such-host.invalid", VANGUARD_DEMO="false")
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and output.startswith("vanguard: cannot listen on no-such-host.invalid:"), output
    assert len(output.strip().splitlines()) == 1


def test_a_server_whose_last_user_died_uncleanly_is_still_stopped(tmp_path: Path):
    """pgserver lists the processes using the server and stops it when the last one lets go; a
    process killed outright stays listed, and then nobody would ever stop the server."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    pgdata = tmp_path / "pgdata"
    first = EmbeddedPostgres(pgdata)
    first.start()
    first.stop()
    (pgdata / ".handle_pids.json").write_text(f"[{dead_pid}]")  # as a process killed with SIGKILL leaves it
    server = EmbeddedPostgres(pgdata)
    server.start()
    pid = postmaster_pid(pgdata)
    try:
        server.stop()
        assert_stopped(pid, pgdata)
    finally:
        stop_leftover(pid)
