"""The audit ledger's sealing key: `VANGUARD_AUDIT_KEY`, else a key file made once in the data directory.

The key must live where the database cannot read it, or sealing proves nothing: not in a table,
not in a setting. The file is created with mode 0600 by an atomic link, so two processes
starting at once end up with the same key, and an existing key file is never rewritten (a new
key would make every earlier seal unverifiable).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from nlq.config import Settings
from store.audit_seal import MIN_KEY_BYTES
from store.errors import StoreError

KEY_FILE = "audit.key"


class AuditKeyUnusable(StoreError):
    """The audit key file cannot be used."""

    code = "audit_key_unusable"
    exit_status = 2  # at the command line: a configuration error


def load_audit_key(settings: Settings) -> bytes:
    """The configured key, or the data directory's key file (created on first use)."""
    configured = Settings.secret(settings.audit_key)
    if configured:
        return configured.encode()
    return read_or_create_key_file(Path(settings.data_dir) / KEY_FILE)


def read_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuditKeyUnusable(f"{path} is readable by other users (mode {mode:o}); make it 0600",
                               path=str(path))
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyUnusable(f"{path} holds fewer than {MIN_KEY_BYTES} bytes; restore the key file",
                               path=str(path))
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)  # fails if another process made the key first: theirs wins
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
