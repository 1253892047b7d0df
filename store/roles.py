"""The three database roles of DESIGN section 4 and the settings that bound the reader."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

OWNER_ROLE = "vanguard_owner"
APP_ROLE = "vanguard_app"
READER_ROLE = "vanguard_reader"

_ROLE_ATTRIBUTES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


@dataclass(frozen=True)
class ReaderLimits:
    """Session settings pinned on the reader role, so every NL query runs inside them."""

    statement_timeout: str = "5s"
    lock_timeout: str = "1s"
    idle_in_transaction_session_timeout: str = "15s"
    temp_file_limit: str = "256MB"
    work_mem: str = "32MB"
    connection_limit: int = 20

    def settings(self) -> dict[str, str]:
        return {
            "default_transaction_read_only": "on",
            "statement_timeout": self.statement_timeout,
            "lock_timeout": self.lock_timeout,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_session_timeout,
            "temp_file_limit": self.temp_file_limit,
            "work_mem": self.work_mem,
            "search_path": "nlq",
        }


def ensure_roles(
    conn: psycopg.Connection,
    *,
    app_password: str | None = None,
    reader_password: str | None = None,
    limits: ReaderLimits = ReaderLimits(),
) -> None:
    """Create the roles if missing and (re)apply their attributes and settings.

    Idempotent: running it again sets the same values. Needs a superuser connection because
    `temp_file_limit` is a superuser setting.
    """
    for role, login in ((OWNER_ROLE, False), (APP_ROLE, True), (READER_ROLE, True)):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("ALTER ROLE {} {} {} NOINHERIT").format(
                sql.Identifier(role), sql.SQL("LOGIN" if login else "NOLOGIN"), sql.SQL(_ROLE_ATTRIBUTES)
            )
        )
    for role, password in ((APP_ROLE, app_password), (READER_ROLE, reader_password)):
        if password:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
            )
    conn.execute(
        sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
            sql.Identifier(READER_ROLE), sql.Literal(int(limits.connection_limit))
        )
    )
    for name, value in limits.settings().items():
        conn.execute(
            sql.SQL("ALTER ROLE {} SET {} = {}").format(
                sql.Identifier(READER_ROLE), sql.Identifier(name), sql.Literal(value)
            )
        )


def ensure_database_privileges(conn: psycopg.Connection) -> None:
    """Database-level grants, which `CREATE DATABASE ... TEMPLATE` does not copy.

    The reader may only connect: no temporary tables (the owner needs them for concurrent
    materialized view refreshes, the app for sync staging).
    """
    dbname = conn.info.dbname
    db = sql.Identifier(dbname)
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    conn.execute(sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(db, sql.Identifier(OWNER_ROLE)))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, sql.Identifier(APP_ROLE)))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(READER_ROLE)))
