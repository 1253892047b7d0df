"""How `vanguard` fails: one line on stderr, exit status 2 for configuration, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from nlq.cli_errors import describe_settings_error
from nlq.config import Settings
from tests.helpers import cli_env


def vanguard(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=cli_env(env), cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_one_line(result: subprocess.CompletedProcess, status: int, *fragments: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vanguard: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("url, fragment", [
    ("not-a-url", "not a PostgreSQL URL: expected postgresql://"),
    ("mysql://root:s3cret-pw@db/app", "the scheme is mysql://"),
    ("postgresql://user@host:5432/db?sslmode", "not a valid PostgreSQL URL"),
])
def test_a_malformed_database_url_is_one_line_and_status_2(url, fragment):
    result = vanguard("db", "upgrade", env={"VANGUARD_DATABASE_URL": url})
    assert_one_line(result, 2, "invalid configuration: VANGUARD_DATABASE_URL: ", fragment)
    assert "s3cret-pw" not in result.stderr  # a URL may carry a password: never repeated


@pytest.mark.parametrize("variable, value, fragment", [
    ("VANGUARD_PORT", "eighty", "VANGUARD_PORT: Input should be a valid integer, unable to parse string as an integer (got 'eighty')"),
    ("VANGUARD_LOG_LEVEL", "loud", "VANGUARD_LOG_LEVEL: Input should be 'debug', 'info', 'warning' or 'error' (got 'loud')"),
    ("VANGUARD_DEMO", "perhaps", "VANGUARD_DEMO: Input should be a valid boolean"),
    ("VANGUARD_SYNC_MAX_DELETE_SHARE", "2", "VANGUARD_SYNC_MAX_DELETE_SHARE: Input should be less than or equal to 1"),
    ("VANGUARD_PEMS_BASE_URL", "pems.example.com", "VANGUARD_PEMS_BASE_URL: not an http:// or https:// URL"),
    ("VANGUARD_LLM_BASE_URL", "localhost:11434/v1", "VANGUARD_LLM_BASE_URL: not an http:// or https:// URL"),
    ("VANGUARD_FORWARDED_ALLOW_IPS", "10.0.0.300", "VANGUARD_FORWARDED_ALLOW_IPS: "),
])
def test_a_bad_setting_is_one_line_naming_the_variable(variable, value, fragment):
    assert_one_line(vanguard("orgs", "list", env={variable: value}), 2, "invalid configuration: " + fragment)


def test_secrets_are_not_repeated_back():
    result = vanguard("orgs", "list", env={"VANGUARD_AUDIT_KEY": "too-short-but-secret"})
    assert_one_line(result, 2, "VANGUARD_AUDIT_KEY: ")
    assert "too-short-but-secret" not in result.stderr


def test_several_bad_settings_are_all_named_on_the_one_line():
    try:
        Settings(port="x", demo_orgs=0, database_url="mysql://h/d")
    except ValidationError as exc:
        line = describe_settings_error(exc, Settings)
    assert "\n" not in line
    for name in ("VANGUARD_PORT", "VANGUARD_DEMO_ORGS", "VANGUARD_DATABASE_URL"):
        assert name in line


def test_upper_case_log_levels_are_accepted():
    assert Settings(log_level="INFO").log_level == "info"


def test_a_data_directory_that_is_a_file_is_one_line_and_status_2(tmp_path):
    (tmp_path / "data").write_text("not a directory")
    result = vanguard("orgs", "list", env={"VANGUARD_DATA_DIR": str(tmp_path / "data")})
    assert_one_line(result, 2, f"cannot use {tmp_path / 'data'}")


def test_an_unusable_audit_key_file_is_one_line_and_status_2(db, tmp_path):
    (tmp_path / "audit.key").mkdir()  # a directory where the key file belongs
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DATA_DIR": str(tmp_path)}
    env_without_key = {k: v for k, v in cli_env(env).items() if k != "VANGUARD_AUDIT_KEY"}
    result = subprocess.run([sys.executable, "-m", "nlq.cli", "audit", "head"], env=env_without_key,
                            capture_output=True, text=True, timeout=120)
    assert_one_line(result, 2, str(tmp_path / "audit.key"))


def test_output_to_a_pipe_closed_early_ends_quietly(db):
    """`vanguard ask ... | head -1`: the reader goes away after one line; no BrokenPipeError traceback."""
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_QUERY_MAX_ROWS": "5000"}
    assert vanguard("seed", "--orgs", "1", "--records", "3000", env=env).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "ask", "--org", "HOLNG", "--user", "planner",
                             "list the rental records"], env=cli_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does: far more than a pipe buffer is still to come
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith("SQL: SELECT"), stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert stderr == ""
    assert proc.returncode == 141


def test_a_shell_pipeline_into_head_prints_the_head_only(db):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_QUERY_MAX_ROWS": "5000"}
    assert vanguard("seed", "--orgs", "1", "--records", "3000", env=env).returncode == 0
    result = subprocess.run(f"{sys.executable} -m nlq.cli ask --org HOLNG --user planner 'list the rental records'"
                            " | head -3", shell=True, env=cli_env(env), capture_output=True, text=True, timeout=120)
    assert len(result.stdout.splitlines()) == 3 and result.stderr == "", result.stderr
