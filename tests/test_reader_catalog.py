"""The reader role and the catalog: no statistics, sources, view internals, settings or version.

Every statement here runs as the reader, straight through psycopg (no guardrails), the way the
executor sends it: READ ONLY, scoped, extended protocol.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg.types import TypeInfo

from store import demo_data, mirror
from store.migrate import upgrade
from tests import reader
from tests.helpers import add_draft, add_org, add_records, add_user


@pytest.fixture
def seeded(app_conn):
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
        add_records(app_conn, list(demo_data.generate_records(org, 20)))
    user = add_user(app_conn, "alice", {"ORG_A": "viewer"})
    add_draft(app_conn, "ORG_A", user, "PFA-0000001", {"area": "Drafted"})
    mirror.analyze(app_conn)  # so there are statistics worth hiding
    return user


def run_as_reader(db, statement: str, org: str | None = "ORG_A", user: int | None = None):
    if org is None:
        with psycopg.connect(db.reader) as conn:
            return conn.execute(statement, prepare=True).fetchall()
    return reader.run_as_reader(db.reader, statement, org, user)


STATISTICS = [
    "SELECT * FROM pg_stat_user_tables",
    "SELECT relname, n_live_tup FROM pg_catalog.pg_stat_user_tables WHERE relname = 'pfa_mirror'",
    "SELECT sum(n_tup_ins) FROM pg_stat_all_tables",
    "SELECT * FROM pg_stat_sys_tables",
    "SELECT * FROM pg_stat_xact_all_tables",
    "SELECT * FROM pg_stat_user_indexes",
    "SELECT * FROM pg_statio_user_tables",
    "SELECT heap_blks_read FROM pg_statio_all_tables",
    "SELECT * FROM pg_statio_all_indexes",
    "SELECT * FROM pg_statio_user_sequences",
    "SELECT xact_commit, tup_inserted FROM pg_stat_database",
    "SELECT * FROM pg_stat_database_conflicts",
    "SELECT * FROM pg_stat_bgwriter",
    "SELECT * FROM pg_stat_wal",
    "SELECT * FROM pg_stat_slru",
    "SELECT * FROM pg_stat_user_functions",
    "SELECT * FROM pg_stat_progress_vacuum",
    "SELECT * FROM pg_stats_ext_exprs",
    "SELECT reltuples FROM pg_class",
    "SELECT relpages FROM pg_catalog.pg_class WHERE relname = 'pfa_mirror'",
    "SELECT relallvisible FROM pg_class",
    "SELECT sum(reltuples) FROM pg_class WHERE relnamespace = 'vanguard'::regnamespace",
    "SELECT count(*) FROM pg_class WHERE reltuples > 100",
    "SELECT relname FROM pg_class ORDER BY relpages DESC LIMIT 1",
    "SELECT * FROM pg_class",
    "SELECT to_jsonb(c) FROM pg_class AS c",
    "SELECT pg_stat_get_live_tuples(c.oid) FROM pg_class AS c WHERE c.relname = 'pfa_mirror'",
    "SELECT pg_stat_get_live_tuples(1259)",
    "SELECT pg_stat_get_numscans(1259)",
    "SELECT pg_stat_get_tuples_inserted(1259)",
    "SELECT pg_stat_get_dead_tuples(1259)",
    "SELECT pg_stat_get_blocks_fetched(1259)",
    "SELECT pg_stat_get_db_xact_commit(1)",
    "SELECT pg_stat_get_backend_activity(1)",
    "SELECT count(*) FROM pg_stat_get_backend_idset() AS b",
    "SELECT pg_catalog.pg_stat_get_last_autovacuum_time(1259)",
    "SELECT pg_relation_size(c.oid) FROM pg_class AS c WHERE c.relname = 'pfa_mirror'",
    "SELECT pg_total_relation_size(1259)",
    "SELECT pg_table_size(1259)",
    "SELECT pg_indexes_size(1259)",
    "SELECT pg_database_size(current_database())",
    "SELECT count(*) FROM pg_lock_status() AS l",
    "SELECT pg_current_snapshot()",
    "SELECT txid_current_snapshot()",
    "SELECT pg_current_wal_lsn()",
    "SELECT pg_current_wal_insert_lsn()",
    "SELECT pg_last_wal_replay_lsn()",
    "SELECT pg_xact_status('3'::xid8)",
    "SELECT * FROM pg_control_checkpoint()",
]

SOURCES_AND_INTERNALS = [
    "SELECT prosrc FROM pg_proc",
    "SELECT prosrc FROM pg_catalog.pg_proc WHERE proname = 'chain_audit_row'",
    "SELECT probin FROM pg_proc",
    "SELECT prosqlbody FROM pg_proc",
    "SELECT * FROM pg_proc",
    "SELECT p FROM pg_proc AS p",
    "SELECT count(*) FROM pg_proc WHERE prosrc LIKE '%%org_id%%'",
    "SELECT pg_get_functiondef(p.oid) FROM pg_proc AS p WHERE p.proname = 'current_org'",
    "SELECT pg_get_function_sqlbody(p.oid) FROM pg_proc AS p WHERE p.proname = 'current_org'",
    "SELECT * FROM pg_rewrite",
    "SELECT ev_action::text FROM pg_catalog.pg_rewrite",
    "SELECT count(*) FROM pg_rewrite",
    "SELECT definition FROM pg_rules",
    "SELECT pg_get_ruledef(1)",
    "SELECT pg_get_viewdef(c.oid) FROM pg_class AS c WHERE c.relname = 'pfa_merged'",
    "SELECT * FROM vanguard.nlq_audit_seal",
    "SELECT * FROM pg_db_role_setting",
    "SELECT setconfig FROM pg_catalog.pg_db_role_setting",
    "SELECT count(*) FROM pg_db_role_setting",
]

SETTINGS_AND_FINGERPRINTS = [
    "SELECT * FROM pg_show_all_settings()",
    "SELECT name, setting FROM pg_catalog.pg_show_all_settings() AS s WHERE name = 'data_directory'",
    "SELECT count(*) FROM pg_show_all_settings() AS s",
    "SELECT current_setting('server_version')",
    "SELECT current_setting('server_version_num')",
    "SELECT current_setting('work_mem', true)",
    "SELECT pg_catalog.current_setting('search_path')",
    "SELECT current_setting('app.org_id')",
    "SELECT version()",
    "SELECT pg_catalog.version()",
    "SELECT split_part(version(), ' ', 2)",
    "SELECT pg_postmaster_start_time()",
    "SELECT pg_conf_load_time()",
    "SELECT * FROM pg_control_system()",
]


@pytest.mark.parametrize("statement", STATISTICS + SOURCES_AND_INTERNALS + SETTINGS_AND_FINGERPRINTS)
def test_the_reader_cannot_read_it(db, seeded, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, statement)


@pytest.mark.parametrize("statement", ["SELECT version()", "SELECT current_setting('server_version')",
                                       "SELECT count(*) FROM pg_stat_user_tables", "SELECT reltuples FROM pg_class",
                                       "SELECT prosrc FROM pg_proc", "SELECT count(*) FROM pg_rewrite"])
def test_not_even_outside_a_scoped_transaction(db, seeded, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, statement, org=None)


def test_no_statistics_view_of_this_server_is_readable(db):
    """Every pg_stat* / pg_statio* view this server version has, not only the ones listed above."""
    with psycopg.connect(db.admin) as conn:
        readable = conn.execute(
            "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'pg_catalog'::regnamespace"
            " AND c.relkind = 'v' AND c.relname LIKE 'pg\\_stat%%'"
            " AND has_table_privilege('vanguard_reader', c.oid, 'SELECT')").fetchall()
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc AS p WHERE p.pronamespace = 'pg_catalog'::regnamespace"
            " AND p.proname LIKE 'pg\\_stat\\_%%' AND has_function_privilege('vanguard_reader', p.oid, 'EXECUTE')"
        ).fetchall()
        views = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'pg\\_stat\\_%%' AND relkind = 'v'").fetchone()[0]
    assert readable == [] and functions == []
    assert views >= 20


def test_the_owner_and_app_roles_keep_statistics_and_settings(db, seeded):
    """They read every organization's rows anyway; sync, KPI refresh and operations may use these."""
    with psycopg.connect(db.app) as conn:
        assert conn.execute("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'pfa_mirror'").fetchone()[0] >= 0
        assert conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'pfa_mirror'").fetchone()[0] == 40
        assert conn.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL")
        assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 150000
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE prosrc <> ''").fetchone()[0] > 0
    with psycopg.connect(db.admin) as conn:
        conn.execute("SET ROLE vanguard_owner")
        assert conn.execute("SELECT count(*) FROM pg_rewrite").fetchone()[0] > 0
        assert conn.execute("SELECT current_setting('app.org_id', true)").fetchone() == (None,)


REMAINS_READABLE = [
    ("SELECT relname, relkind FROM pg_class WHERE relname = 'pfa_merged'", [("pfa_merged", "v")]),
    ("SELECT nspname FROM pg_namespace WHERE nspname = 'nlq'", [("nlq",)]),
    ("SELECT typname FROM pg_type WHERE oid = 'numeric'::regtype", [("numeric",)]),
    ("SELECT proname FROM pg_proc WHERE oid = 'lower(text)'::regprocedure", [("lower",)]),
    ("SELECT 'nlq.pfa_merged'::regclass::text", [("pfa_merged",)]),
    ("SELECT count(*) FROM information_schema.columns WHERE table_name = 'pfa_merged'", [(30,)]),
    ("SELECT count(*) FROM information_schema.routines WHERE routine_definition IS NOT NULL", [(0,)]),
]


@pytest.mark.parametrize("statement,expected", REMAINS_READABLE)
def test_names_and_types_stay_readable(db, seeded, statement, expected):
    """What clients and information_schema read: names, kinds and types, no sizes or bodies."""
    assert run_as_reader(db, statement) == expected


def test_the_driver_still_looks_types_up(db, seeded):
    with psycopg.connect(db.reader) as conn:
        info = TypeInfo.fetch(conn, "numeric")
        assert info is not None and info.oid == 1700
        assert conn.execute("SELECT count(*) FROM pfa_merged").fetchone() == (0,)


def test_the_view_scopes_without_current_setting(db, seeded):
    """The reader may not call current_setting, yet the view reads the scope (through the owner's
    functions) and shows exactly the organization and the user's drafts set by the app."""
    rows = run_as_reader(db, "SELECT organization_id, id, area, has_draft FROM pfa_merged ORDER BY id", "ORG_A", seeded)
    assert len(rows) == 20 and {r[0] for r in rows} == {"ORG_A"}
    assert rows[0][1:] == ("PFA-0000001", "Drafted", True) and not any(r[3] for r in rows[1:])
    assert {r[0] for r in run_as_reader(db, "SELECT organization_id FROM pfa_merged", "ORG_B", seeded)} == {"ORG_B"}
    without_user = run_as_reader(db, "SELECT count(*), count(*) FILTER (WHERE has_draft) FROM pfa_merged", "ORG_A")
    assert without_user == [(20, 0)]


@pytest.mark.parametrize("org", [None, ""])
def test_the_view_fails_closed_without_an_organization(db, seeded, org):
    if org is None:
        assert run_as_reader(db, "SELECT count(*) FROM pfa_merged", org=None) == [(0,)]
    else:
        assert run_as_reader(db, "SELECT count(*) FROM pfa_merged", org=org, user=seeded) == [(0,)]


def test_the_scope_functions_are_out_of_the_readers_reach_by_name(db, seeded):
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, "SELECT vanguard.current_org()")
    with psycopg.connect(db.admin) as conn:
        definer = conn.execute(
            "SELECT bool_and(prosecdef), bool_and(proconfig::text LIKE '%%search_path%%'),"
            " bool_and(pg_get_userbyid(proowner) = 'vanguard_owner'),"
            " bool_or(has_function_privilege('public', oid, 'EXECUTE'))"
            " FROM pg_proc WHERE oid IN ('vanguard.current_org()'::regprocedure, 'vanguard.current_app_user()'::regprocedure)"
        ).fetchone()
    assert definer == (True, True, True, False)


def test_a_second_upgrade_keeps_the_catalog_closed(db, seeded, server_passwords):
    with psycopg.connect(db.admin) as conn:
        before = conn.execute("SELECT attname, attacl::text FROM pg_attribute WHERE attrelid IN"
                              " ('pg_class'::regclass, 'pg_proc'::regclass) ORDER BY attrelid, attnum").fetchall()
    upgrade(db.admin, **server_passwords)
    with psycopg.connect(db.admin) as conn:
        after = conn.execute("SELECT attname, attacl::text FROM pg_attribute WHERE attrelid IN"
                             " ('pg_class'::regclass, 'pg_proc'::regclass) ORDER BY attrelid, attnum").fetchall()
    assert after == before
    with pytest.raises(errors.InsufficientPrivilege):
        run_as_reader(db, "SELECT reltuples FROM pg_class")
    assert len(run_as_reader(db, "SELECT id FROM pfa_merged", "ORG_A", seeded)) == 20


def test_the_reader_cannot_write_planner_statistics(db):
    """PostgreSQL 18 lets any role call pg_restore_*_stats / pg_clear_*_stats on what it may
    maintain; the reader may call none of them (on older servers there are none to find)."""
    with psycopg.connect(db.admin) as conn:
        executable = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " WHERE (p.proname LIKE 'pg\\_restore\\_%\\_stats' OR p.proname LIKE 'pg\\_clear\\_%\\_stats')"
            " AND has_function_privilege('vanguard_reader', p.oid, 'EXECUTE')").fetchall()
    assert executable == []
