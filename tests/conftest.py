"""A real PostgreSQL for every test: VANGUARD_TEST_DATABASE_URL (a superuser URL) if set, else one
embedded server per test run. A migrated template database is built once; each test that asks
for `db` gets its own copy made with CREATE DATABASE ... TEMPLATE."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

# Each test process counts its apps' requests in a metrics directory of its own (made by
# nlq.metrics on import), not in one inherited from the process that started it.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from store.database import DatabaseUrls
from store.embedded import EmbeddedPostgres
from store.migrate import upgrade
from store.pems.sim_store import sim_database_name
from store.roles import ensure_database_privileges
from tests.helpers import HARNESS_ENV

# Fixture modules shared by several test modules (pytest registers their fixtures everywhere).
pytest_plugins = ["tests.api_fixtures", "tests.pems_fixtures", "tests.fake_llm", "tests.guardrails_fixtures",
                  "tests.web_fixtures", "tests.reader_fixtures"]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """One server shared by several test processes would see each set its own passwords for the
    same roles, so with VANGUARD_TEST_DATABASE_URL the suite runs in one process (and says so)."""
    if os.environ.get("VANGUARD_TEST_DATABASE_URL") and getattr(config.option, "numprocesses", None):
        print("VANGUARD_TEST_DATABASE_URL is set: running the tests in one process, not in parallel")
        config.option.numprocesses = 0
        config.option.dist = "no"


@pytest.fixture(scope="session", autouse=True)
def audit_key() -> Iterator[bytes]:
    """Apps built by tests seal the audit ledger with this key instead of writing `audit.key`
    into the working directory (tests of the key file pass their own data directory)."""
    key = secrets.token_hex(32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VANGUARD_AUDIT_KEY", key)
        yield key.encode()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DatabaseUrls]:
    """Admin, app and reader URLs of the test server (database `postgres`)."""
    external = os.environ.get("VANGUARD_TEST_DATABASE_URL")
    if external:
        app_password, reader_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        HARNESS_ENV.update(VANGUARD_APP_DB_PASSWORD=app_password, VANGUARD_READER_DB_PASSWORD=reader_password)
        yield DatabaseUrls.from_admin(external, app_password=app_password, reader_password=reader_password)
        return
    # Not under pytest's basetemp: pytest prunes old basetemps, and another pytest run on the same
    # machine must never delete the data directory of a server this run is using.
    parent = Path(tempfile.mkdtemp(prefix="vanguard-test-"))
    server = EmbeddedPostgres(parent / "pgdata", temporary=True)
    admin = server.start()
    with psycopg.connect(admin, autocommit=True) as conn:
        # Durability is pointless for throw-away test data; this makes each test database cheap.
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(name)))
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield DatabaseUrls.from_admin(admin)
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


def _passwords(urls: DatabaseUrls) -> dict[str, str | None]:
    app = psycopg.conninfo.conninfo_to_dict(urls.app).get("password")
    reader = psycopg.conninfo.conninfo_to_dict(urls.reader).get("password")
    return {"app_password": app or None, "reader_password": reader or None}


def create_database(server: DatabaseUrls, name: str, template: str | None = None) -> DatabaseUrls:
    with psycopg.connect(server.admin, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        conn.execute(statement)
    return server.for_database(name)


def drop_database(server: DatabaseUrls, name: str) -> None:
    """Drop the database and the built-in PEMS's database beside it (made by a test that used it)."""
    with psycopg.connect(server.admin, autocommit=True) as conn:
        for dbname in (name, sim_database_name(name)):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def template_db(pg_server: DatabaseUrls) -> Iterator[str]:
    """Name of a fully migrated database that test databases are copied from."""
    name = f"vanguard_template_{os.getpid()}"
    drop_database(pg_server, name)
    urls = create_database(pg_server, name)
    upgrade(urls.admin, **_passwords(pg_server))
    try:
        yield name
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def empty_db(pg_server: DatabaseUrls) -> Iterator[DatabaseUrls]:
    """A new database with nothing in it (for migration tests)."""
    name = f"vg_empty_{uuid.uuid4().hex[:12]}"
    urls = create_database(pg_server, name)
    try:
        yield urls
    finally:
        drop_database(pg_server, name)


def copy_template(server: DatabaseUrls, template: str) -> tuple[str, DatabaseUrls]:
    name = f"vg_test_{uuid.uuid4().hex[:12]}"
    urls = create_database(server, name, template=template)
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        ensure_database_privileges(conn)
    return name, urls


@pytest.fixture
def db(pg_server: DatabaseUrls, template_db: str) -> Iterator[DatabaseUrls]:
    """A migrated database of this test's own."""
    name, urls = copy_template(pg_server, template_db)
    try:
        yield urls
    finally:
        drop_database(pg_server, name)


@pytest.fixture(scope="session")
def database_factory(pg_server: DatabaseUrls, template_db: str) -> Iterator:
    """Make migrated databases that live until the end of the run (for module-scoped data sets)."""
    made: list[str] = []

    def make() -> DatabaseUrls:
        name, urls = copy_template(pg_server, template_db)
        made.append(name)
        return urls

    yield make
    for name in made:
        drop_database(pg_server, name)


@pytest.fixture
def app_conn(db: DatabaseUrls) -> Iterator[psycopg.Connection]:
    """A connection as the app role, committing each statement."""
    with psycopg.connect(db.app, autocommit=True) as conn:
        yield conn


@pytest.fixture
def server_passwords(pg_server: DatabaseUrls) -> dict[str, str | None]:
    return _passwords(pg_server)
