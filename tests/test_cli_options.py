"""Options of every `vanguard` command: quiet logs by default, -v / -vv for more, --version."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from tests.helpers import cli_env


def vanguard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env), capture_output=True,
                          text=True, timeout=120)


def test_version_comes_from_the_package_metadata():
    result = vanguard("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"vanguard {metadata.version('pfa-vanguard')}"


def test_commands_are_quiet_by_default(empty_db):
    quiet = vanguard("db", "upgrade", env={"VANGUARD_DATABASE_URL": empty_db.admin})
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert quiet.stdout.startswith("applied ")


def test_verbose_after_the_command_shows_the_info_log(empty_db):
    verbose = vanguard("db", "upgrade", "-v", env={"VANGUARD_DATABASE_URL": empty_db.admin})
    assert verbose.returncode == 0 and "INFO store.migrate: applying migration 0001_accounts" in verbose.stderr
    assert verbose.stdout.startswith("applied ")


def test_the_log_level_setting_applies_and_the_more_verbose_wins(empty_db):
    env = {"VANGUARD_DATABASE_URL": empty_db.admin, "VANGUARD_LOG_LEVEL": "error"}
    assert "INFO store.migrate: applying migration" in vanguard("-vv", "db", "upgrade", env=env).stderr


def test_the_log_level_setting_alone_shows_the_info_log(empty_db):
    env = {"VANGUARD_DATABASE_URL": empty_db.admin, "VANGUARD_LOG_LEVEL": "INFO"}
    assert "INFO store.migrate: applying migration" in vanguard("db", "upgrade", env=env).stderr


def test_help_names_the_output_options():
    result = vanguard("serve", "--help")
    assert "--verbose" in result.stdout and "--progress" in result.stdout
