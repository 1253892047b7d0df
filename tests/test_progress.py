"""Progress bars: on stderr when it is a terminal (or --progress), never in pipes, never in the results."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading

import pytest

from nlq import progress
from nlq.bench.dataset import build
from tests.helpers import cli_env

BAR_MARKS = ("\r", "records/s", "it/s", "%|")


def vanguard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env), capture_output=True,
                          text=True, timeout=300)


def has_bar(text: str) -> bool:
    return any(mark in text for mark in BAR_MARKS)


@pytest.fixture
def forced():
    progress.configure(True)
    yield
    progress.configure(None)


def test_bars_follow_the_flag_then_whether_stderr_is_a_terminal(capsys):
    progress.configure(None)
    assert progress.enabled() is sys.stderr.isatty()
    progress.configure(False)
    list(progress.track(range(50_000), "counting", total=50_000))
    assert capsys.readouterr().err == ""
    progress.configure(True)
    try:
        list(progress.track(range(50_000), "counting", total=50_000))
        shown = progress.counter("reading")
        shown(10)
        shown(25)
        progress.clear()
    finally:
        progress.configure(None)
    captured = capsys.readouterr()
    assert captured.out == "" and "counting" in captured.err and "reading" in captured.err


def test_seed_in_a_pipe_prints_its_results_and_no_bars(db):
    result = vanguard("seed", "--orgs", "2", "--records", "3000", env={"VANGUARD_DATABASE_URL": db.admin})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["  HOLNG: 3,000 records", "  RIOT: 3,000 records",
                                          "seeded 2 organization(s) x 3,000 records"]
    assert result.stderr == ""


def test_seed_with_progress_forced_shows_bars_on_stderr_only(db):
    result = vanguard("seed", "--progress", "--orgs", "1", "--records", "3000", env={"VANGUARD_DATABASE_URL": db.admin})
    assert result.returncode == 0, result.stderr
    assert "HOLNG: loading" in result.stderr and has_bar(result.stderr)
    assert not has_bar(result.stdout) and "seeded 1 organization(s) x 3,000 records" in result.stdout


def test_seed_on_a_terminal_shows_bars_there_and_keeps_stdout_clean(db):
    """stderr a real terminal (a pty), stdout a pipe: the bars go to the terminal only."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    seen = []
    reader = threading.Thread(target=lambda: _drain(controller, seen), daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-m", "nlq.cli", "seed", "--orgs", "1", "--records", "3000"],
                          env=cli_env({"VANGUARD_DATABASE_URL": db.admin}), stdout=subprocess.PIPE,
                          stderr=terminal, text=True, timeout=300)
    os.close(terminal)
    reader.join(timeout=10)
    on_terminal = b"".join(seen).decode(errors="replace")
    assert proc.returncode == 0, on_terminal
    assert "HOLNG: loading" in on_terminal and has_bar(on_terminal)
    assert not has_bar(proc.stdout) and "seeded 1 organization(s)" in proc.stdout


def _drain(fd: int, into: list[bytes]) -> None:
    try:
        while chunk := os.read(fd, 4096):
            into.append(chunk)
    except OSError:  # the terminal's other end closed
        pass
    finally:
        os.close(fd)


def test_sync_counts_rows_read_only_when_asked_and_always_prints_the_result(db):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DEMO_RECORDS": "3000", "VANGUARD_PEMS_PAGE_SIZE": "500",
           "VANGUARD_PEMS": "simulator"}
    assert vanguard("orgs", "add", "HOLNG", env=env).returncode == 0
    quiet = vanguard("sync", env=env)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert "HOLNG: full sync succeeded: 3,000 read, 3,000 inserted" in quiet.stdout and not has_bar(quiet.stdout)
    shown = vanguard("sync", "--full", "--progress", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "HOLNG: reading" in shown.stderr and has_bar(shown.stderr)
    assert "HOLNG: full sync succeeded: 3,000 read, 0 inserted" in shown.stdout and not has_bar(shown.stdout)


def test_the_bench_dataset_shows_what_it_is_doing(db, forced, capsys):
    dataset = build(db, records=2000, orgs=2, drafts=10)
    err = capsys.readouterr().err
    assert dataset.records_per_org == 1000
    assert "loading the mirror" in err and "2,000 records loaded" in err and "VACUUM" in err
