"""The reader role (the database line of defence): the merged view, read-only, and nothing else."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from store import demo_data
from tests import reader
from tests.helpers import add_org, add_records, add_user

DENIED = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)


@pytest.fixture
def seeded(app_conn):
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
        add_records(app_conn, list(demo_data.generate_records(org, 20)))
    return add_user(app_conn, "alice", {"ORG_A": "viewer"})


def run_as_reader(db, statement: str, org: str = "ORG_A", user: int | None = None):
    return reader.run_as_reader(db.reader, statement, org, user)


FORBIDDEN_CALLS = [
    "SELECT set_config('app.org_id', 'ORG_B', true)",
    "SELECT set_config('app.org_id', 'ORG_B', false)",
    "SELECT pg_sleep(0)",
    "SELECT pg_sleep_for('0 seconds')",
    "SELECT pg_sleep_until(now())",
    "SELECT pg_notify('x', 'y')",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_advisory_xact_lock(1)",
    "SELECT pg_try_advisory_lock(1)",
    "SELECT pg_advisory_unlock_all()",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_terminate_backend(1)",
    "SELECT lo_creat(-1)",
    "SELECT lo_create(0)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_unlink(1)",
    "SELECT lo_get(1)",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT loread(0, 1)",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')",
    "SELECT pg_stat_file('postgresql.conf')",
    "SELECT pg_ls_logdir()",
    "SELECT nextval('vanguard.users_id_seq')",
    "SELECT setval('vanguard.users_id_seq', 1)",
    "SELECT currval('vanguard.users_id_seq')",
    "SELECT txid_current()",
    "SELECT pg_current_xact_id()",
    "SELECT query_to_xml('select 1', true, true, '')",
    "SELECT query_to_xml_and_xmlschema('select 1', true, true, '')",
    "SELECT table_to_xml('nlq.pfa_merged', true, true, '')",
    "SELECT ts_stat('select to_tsvector(''a'')')",
    "SELECT ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery')",
    "SELECT pg_get_viewdef('nlq.pfa_merged'::regclass)",
]


@pytest.mark.parametrize("statement", FORBIDDEN_CALLS)
def test_forbidden_functions_are_not_executable(db, seeded, statement):
    with pytest.raises((errors.InsufficientPrivilege, errors.UndefinedFunction, errors.InvalidSchemaName,
                        errors.UndefinedTable)) as err:
        run_as_reader(db, statement)
    # Unknown-function answers only count where the object is out of the reader's reach by schema.
    if not isinstance(err.value, errors.InsufficientPrivilege):
        assert "vanguard" in statement, err.value


def test_dblink_is_not_available(db, seeded):
    with pytest.raises((errors.UndefinedFunction, errors.InsufficientPrivilege)):
        run_as_reader(db, "SELECT dblink_connect('host=127.0.0.1')")


BASE_TABLES = ["organizations", "users", "memberships", "pfa_mirror", "pfa_draft", "change_sets", "sync_runs",
               "writeback_outbox", "nlq_audit", "schema_migrations", "kpi_category_source", "kpi_timeline"]


@pytest.mark.parametrize("table", BASE_TABLES)
def test_base_tables_are_unreadable(db, seeded, table):
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, f"SELECT * FROM vanguard.{table} LIMIT 1")


@pytest.mark.parametrize("catalog", ["pg_stat_activity", "pg_settings", "pg_roles", "pg_policies", "pg_stats",
                                     "pg_user", "pg_locks"])
def test_sensitive_catalogs_are_unreadable(db, seeded, catalog):
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, f"SELECT * FROM pg_catalog.{catalog} LIMIT 1")


WRITES = [
    "INSERT INTO nlq.pfa_merged (id) VALUES ('x')",
    "UPDATE nlq.pfa_merged SET area = 'x'",
    "DELETE FROM nlq.pfa_merged",
    "INSERT INTO vanguard.pfa_mirror (organization_id, id, data) VALUES ('ORG_A', 'x', '{}')",
    "UPDATE vanguard.pfa_mirror SET deleted_at = now()",
    "DELETE FROM vanguard.nlq_audit",
    "TRUNCATE vanguard.pfa_draft",
    "CREATE TABLE nlq.evil (x int)",
    "CREATE TABLE public.evil (x int)",
    "CREATE TEMP TABLE evil (x int)",
    "CREATE TEMPORARY TABLE evil AS SELECT 1",
    "CREATE VIEW nlq.pfa_merged2 AS SELECT 1",
    "CREATE FUNCTION nlq.f() RETURNS int LANGUAGE sql AS 'select 1'",
    "LOCK TABLE nlq.pfa_merged",
    "SELECT * FROM nlq.pfa_merged FOR UPDATE",
    "ALTER ROLE vanguard_reader SET statement_timeout = 0",
    "GRANT SELECT ON nlq.pfa_merged TO PUBLIC",
]


@pytest.mark.parametrize("statement", WRITES)
def test_writes_and_ddl_fail(db, seeded, statement):
    with pytest.raises(DENIED + (errors.FeatureNotSupported, errors.WrongObjectType, errors.ObjectNotInPrerequisiteState)):
        run_as_reader(db, statement)


def test_writes_fail_even_outside_an_explicit_read_only_transaction(db, seeded):
    with psycopg.connect(db.reader) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(DENIED):
            conn.execute("CREATE TEMP TABLE evil (x int)")


def test_role_settings_bound_every_session(db):
    with psycopg.connect(db.reader) as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in (
            "default_transaction_read_only", "statement_timeout", "lock_timeout",
            "idle_in_transaction_session_timeout", "work_mem", "temp_file_limit", "search_path")}
    assert settings == {"default_transaction_read_only": "on", "statement_timeout": "5s", "lock_timeout": "1s",
                        "idle_in_transaction_session_timeout": "15s", "work_mem": "32MB",
                        "temp_file_limit": "256MB", "search_path": "nlq"}


def test_role_attributes(db):
    with psycopg.connect(db.admin) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls,"
            " rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = 'vanguard_reader'").fetchone()
    assert row == (False, False, False, False, False, False, True, 20)


def test_the_view_returns_exactly_the_organization_set_by_the_app(db, seeded):
    rows = run_as_reader(db, "SELECT organization_id, id FROM pfa_merged ORDER BY id", "ORG_A", seeded)
    assert len(rows) == 20 and {r[0] for r in rows} == {"ORG_A"}
    with psycopg.connect(db.app) as conn:
        expected = conn.execute(
            "SELECT organization_id, id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' ORDER BY id").fetchall()
    assert rows == expected
    assert {r[0] for r in run_as_reader(db, "SELECT organization_id FROM pfa_merged", "ORG_B")} == {"ORG_B"}


def test_the_scope_cannot_be_changed_by_a_query(db, seeded):
    """set_config is refused; SET is a separate statement the extended protocol will not stack."""
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, "SELECT count(*) FROM pfa_merged, LATERAL set_config('app.org_id', 'ORG_B', true) s")
    with pytest.raises(errors.SyntaxError):
        run_as_reader(db, "SELECT 1; SET LOCAL app.org_id = 'ORG_B'; SELECT count(*) FROM pfa_merged")


def test_without_scope_the_reader_sees_nothing(db, seeded):
    with psycopg.connect(db.reader) as conn:
        assert conn.execute("SELECT count(*) FROM pfa_merged").fetchone()[0] == 0
