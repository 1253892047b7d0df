"""The audit sealing key: from VANGUARD_AUDIT_KEY, else a 0600 file made once in the data directory."""

from __future__ import annotations

import stat
import threading

import pytest
from pydantic import ValidationError

from nlq.audit_key import KEY_FILE, AuditKeyUnusable, load_audit_key
from nlq.config import Settings


def file_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", audit_key=None)


def test_the_key_file_is_made_once_with_mode_0600(tmp_path):
    key = load_audit_key(file_settings(tmp_path))
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and int(key, 16) >= 0
    assert load_audit_key(file_settings(tmp_path)) == key
    assert sorted(p.name for p in path.parent.iterdir()) == [KEY_FILE]  # no temporary file left behind


def test_processes_starting_together_get_the_same_key(tmp_path):
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_audit_key(file_settings(tmp_path))))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_a_key_file_others_can_read_is_refused(tmp_path):
    load_audit_key(file_settings(tmp_path))
    (tmp_path / "data" / KEY_FILE).chmod(0o644)
    with pytest.raises(AuditKeyUnusable, match="readable by other users"):
        load_audit_key(file_settings(tmp_path))


def test_a_truncated_key_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / "data" / KEY_FILE
    path.parent.mkdir()
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(AuditKeyUnusable, match="fewer than 32 bytes"):
        load_audit_key(file_settings(tmp_path))
    assert path.read_text() == "short\n"


def test_a_configured_key_wins_and_no_file_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("VANGUARD_AUDIT_KEY", "k" * 40)
    monkeypatch.setenv("VANGUARD_DATA_DIR", str(tmp_path / "data"))
    assert load_audit_key(Settings()) == b"k" * 40
    assert not (tmp_path / "data").exists()


def test_a_short_configured_key_is_refused(monkeypatch):
    monkeypatch.setenv("VANGUARD_AUDIT_KEY", "too-short")
    with pytest.raises(ValidationError):
        Settings()
