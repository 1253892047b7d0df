"""Production guards: an external database never silently mirrors the built-in simulator, demo
logins are never served to the network unless asked for; each refusal is one line, exit 2, before
any work. And the first-admin steps for a site started without the demo."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

import nlq.production_guard as guard
from nlq.bootstrap import FIRST_ADMIN_STEPS, demo_logins_present, first_admin_hint
from nlq.config import Settings
from nlq.seed import DEMO_USERS, seed_demo
from tests.helpers import cli_env

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"  # any connection attempt would fail differently


def vanguard(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env), cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_doctests():
    assert doctest.testmod(guard).failed == 0


@pytest.mark.parametrize("settings, refusal", [
    ({}, None),  # zero configuration: embedded database, built-in simulator
    ({"database_url": UNREACHABLE}, guard.SimulatorInProduction),
    ({"database_url": UNREACHABLE, "pems": "simulator"}, None),
    ({"database_url": UNREACHABLE, "pems_base_url": "https://eam.example.com"}, None),
    ({"database_url": UNREACHABLE, "pems_base_url": ""}, guard.SimulatorInProduction),  # compose's unset variable
    ({"pems": "simulator", "pems_base_url": "https://eam.example.com"}, guard.ConflictingPems),
])
def test_check_pems(settings, refusal):
    if refusal is None:
        guard.check_pems(Settings(**settings))
    else:
        with pytest.raises(refusal):
            guard.check_pems(Settings(**settings))


@pytest.mark.parametrize("settings, host, refused", [
    ({}, "127.0.0.1", False),
    ({}, "localhost", False),
    ({}, "0.0.0.0", True),
    ({}, "::", True),
    ({}, "192.168.1.20", True),
    ({"demo_public": True}, "0.0.0.0", False),
    ({"demo": False}, "0.0.0.0", False),
])
def test_check_demo(settings, host, refused):
    if refused:
        with pytest.raises(guard.DemoOnNetwork, match="VANGUARD_DEMO_PUBLIC=true"):
            guard.check_demo(Settings(**settings), host)
    else:
        guard.check_demo(Settings(**settings), host)


def test_empty_pems_setting_means_auto():
    assert Settings(pems="").pems == "auto"
    with pytest.raises(ValueError):
        Settings(pems="real")


@pytest.mark.parametrize("args, env, needle", [
    (("serve",), {"VANGUARD_DATABASE_URL": UNREACHABLE}, "VANGUARD_PEMS=simulator"),
    (("sync",), {"VANGUARD_DATABASE_URL": UNREACHABLE}, "VANGUARD_PEMS=simulator"),
    (("serve",), {"VANGUARD_PEMS": "simulator", "VANGUARD_PEMS_BASE_URL": "http://127.0.0.1:1"}, "unset one of them"),
    (("serve", "--host", "0.0.0.0"), {}, "VANGUARD_DEMO=false"),
    (("serve",), {"VANGUARD_HOST": "::"}, "VANGUARD_DEMO_PUBLIC=true"),
])
def test_the_cli_refuses_in_one_line_with_status_2_before_any_work(tmp_path, args, env, needle):
    result = vanguard(*args, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vanguard: ") and needle in lines[0], result.stderr
    assert result.stdout == ""
    assert not (tmp_path / ".vanguard").exists(), "the embedded server was started before the refusal"


def test_demo_users_left_in_the_database_are_refused_on_the_network(db):
    with psycopg.connect(db.app, autocommit=True) as conn:
        assert first_admin_hint(conn) == FIRST_ADMIN_STEPS
        seed_demo(conn, organizations=1, records=1, load_records=False)
        assert first_admin_hint(conn) is None
        assert demo_logins_present(conn) == [u.username for u in DEMO_USERS]
        settings = Settings(demo=False)  # the demo is off now, but its users are still there
        with pytest.raises(guard.DemoOnNetwork, match=", ".join(u.username for u in DEMO_USERS)):
            guard.check_demo_logins(settings, "0.0.0.0", conn)
        guard.check_demo_logins(settings, "127.0.0.1", conn)
        guard.check_demo_logins(Settings(demo=False, demo_public=True), "0.0.0.0", conn)

    env = {"VANGUARD_DATABASE_URL": db.admin}
    for name in [u.username for u in DEMO_USERS if u.username != "viewer"]:
        changed = vanguard("users", "set-password", name, "--password-stdin", env=env, stdin="a new long password\n")
        assert changed.returncode == 0 and f"password of {name} changed" in changed.stdout, changed.stderr
    with psycopg.connect(db.app) as conn:
        assert demo_logins_present(conn) == ["viewer"]
        with pytest.raises(guard.DemoOnNetwork, match="demo users viewer still"):
            guard.check_demo_logins(Settings(demo=False), "0.0.0.0", conn)

    ghost = vanguard("users", "set-password", "ghost", "--password-stdin", env=env, stdin="a new long password\n")
    assert ghost.returncode == 1 and "ghost does not exist" in ghost.stderr
