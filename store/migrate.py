"""Ordered SQL migrations, applied under an advisory lock; plus the idempotent role bootstrap."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from importlib import resources

import psycopg
from psycopg import sql

from store.errors import BootstrapNeedsSuperuser, DatabaseUnavailable, MigrationDrift, MigrationError
from store.roles import OWNER_ROLE, ReaderLimits, ensure_database_privileges, ensure_roles

log = logging.getLogger(__name__)

# One key for the whole cluster: two processes upgrading at once take turns.
MIGRATION_LOCK_KEY = 0x56414E47  # "VANG"

_TRACKING_TABLE = """
CREATE TABLE IF NOT EXISTS vanguard.schema_migrations (
    version     text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str
    sql_text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql_text.encode()).hexdigest()


@dataclass
class UpgradeResult:
    applied: list[str] = field(default_factory=list)
    current: str | None = None


def list_migrations() -> list[Migration]:
    """The migration files shipped in `store/migrations`, in version order."""
    folder = resources.files("store") / "migrations"
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def _read_sql(name: str) -> str:
    return (resources.files("store") / "sql" / name).read_text(encoding="utf-8")


def upgrade(
    admin_url: str,
    *,
    app_password: str | None = None,
    reader_password: str | None = None,
    limits: ReaderLimits = ReaderLimits(),
) -> UpgradeResult:
    """Bring the database at `admin_url` up to date; return the versions applied now.

    Roles and database privileges are (re)applied every time: they are idempotent, and
    database-level grants are not copied by `CREATE DATABASE ... TEMPLATE`. Each migration runs
    in its own transaction as the owner role, so a failing file leaves the previous ones applied
    and itself not at all.
    """
    try:
        conn = psycopg.connect(admin_url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    with conn:
        if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            raise BootstrapNeedsSuperuser()
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            ensure_roles(conn, app_password=app_password, reader_password=reader_password, limits=limits)
            ensure_database_privileges(conn)
            result = _apply_pending(conn)
            conn.execute(_read_sql("harden.sql"))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return result


def _apply_pending(conn: psycopg.Connection) -> UpgradeResult:
    result = UpgradeResult()
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS vanguard AUTHORIZATION {}").format(sql.Identifier(OWNER_ROLE))
        )
        conn.execute(_TRACKING_TABLE)
        applied = dict(conn.execute("SELECT version, checksum FROM vanguard.schema_migrations").fetchall())
    for migration in list_migrations():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationDrift(f"migration {migration.version} was changed after it was applied; "
                                     "restore the file or add a new migration", version=migration.version)
            result.current = migration.version
            continue
        log.info("applying migration %s", migration.version)
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
                conn.execute(migration.sql_text)
                conn.execute(
                    "INSERT INTO vanguard.schema_migrations (version, checksum) VALUES (%s, %s)",
                    (migration.version, migration.checksum),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.version} failed: {exc}", version=migration.version) from exc
        result.applied.append(migration.version)
        result.current = migration.version
    return result
