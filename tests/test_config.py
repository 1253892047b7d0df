"""Settings: environment prefix, validation, and a README table that lists every one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from nlq.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme():
    documented = set(re.findall(r"^\| `(VANGUARD_[A-Z_]+)` \|", README.read_text(), re.MULTILINE))
    expected = {f"VANGUARD_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("VANGUARD_PORT", "9123")
    monkeypatch.setenv("VANGUARD_READER_STATEMENT_TIMEOUT", "2s")
    settings = Settings()
    assert settings.port == 9123
    assert settings.reader_limits().statement_timeout == "2s"
    assert settings.database_url is None


@pytest.mark.parametrize("name, value", [("VANGUARD_PORT", "0"), ("VANGUARD_PORT", "abc"),
                                         ("VANGUARD_DEMO_ORGS", "101"), ("VANGUARD_DEMO", "perhaps")])
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_passwords_are_not_echoed(monkeypatch):
    monkeypatch.setenv("VANGUARD_READER_DB_PASSWORD", "s3cret-value")
    settings = Settings()
    assert "s3cret-value" not in repr(settings)
    assert Settings.secret(settings.reader_db_password) == "s3cret-value"
