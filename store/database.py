"""Where the database is and how each role connects to it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from store.embedded import EmbeddedPostgres
from store.roles import APP_ROLE, READER_ROLE


@dataclass(frozen=True)
class DatabaseUrls:
    """Connection URLs per role. `admin` bootstraps roles and runs migrations (as the owner)."""

    admin: str
    app: str
    reader: str
    # The reader role on the primary itself. Equal to `reader` unless that was given explicitly
    # (it may be a hot standby: NL answers then run there and fall back to this one).
    primary_reader: str | None = None

    @classmethod
    def from_admin(
        cls,
        admin: str,
        *,
        app_password: str | None = None,
        reader_password: str | None = None,
        app: str | None = None,
        reader: str | None = None,
    ) -> DatabaseUrls:
        """Derive the app and reader URLs from the admin URL unless given explicitly."""
        derived_reader = with_user(admin, READER_ROLE, reader_password)
        return cls(
            admin=admin,
            app=app or with_user(admin, APP_ROLE, app_password),
            reader=reader or derived_reader,
            primary_reader=derived_reader,
        )

    def for_database(self, dbname: str) -> DatabaseUrls:
        """The same roles, connected to another database of the same server."""
        return DatabaseUrls(
            admin=with_database(self.admin, dbname),
            app=with_database(self.app, dbname),
            reader=with_database(self.reader, dbname),
            primary_reader=with_database(self.primary_reader, dbname) if self.primary_reader else None,
        )


def with_user(url: str, user: str, password: str | None) -> str:
    params = conninfo_to_dict(url)
    params["user"] = user
    params.pop("password", None)
    if password:
        params["password"] = password
    return make_conninfo(**params)


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@contextlib.contextmanager
def open_database(
    database_url: str | None,
    data_dir: Path,
    *,
    app_password: str | None = None,
    reader_password: str | None = None,
    app_url: str | None = None,
    reader_url: str | None = None,
) -> Iterator[DatabaseUrls]:
    """Yield the URLs of the configured database, starting the embedded one when none is set.

    The embedded server is stopped when the context exits.
    """
    embedded = None
    if database_url is None:
        embedded = EmbeddedPostgres(Path(data_dir) / "pgdata")
        database_url = embedded.start()
    try:
        yield DatabaseUrls.from_admin(
            database_url,
            app_password=app_password,
            reader_password=reader_password,
            app=app_url,
            reader=reader_url,
        )
    finally:
        if embedded is not None:
            embedded.stop()
