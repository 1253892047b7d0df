"""Migrations: ordered, idempotent, locked, and refusing edited history."""

from __future__ import annotations

import threading

import psycopg
import pytest

from store import migrate
from store.errors import MigrationDrift

# Everything an upgrade could change: objects, their ACLs, role settings, applied versions.
SNAPSHOT_QUERIES = {
    "relations": """SELECT n.nspname, c.relname, c.relkind, coalesce(c.relacl::text, '')
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname IN ('vanguard', 'nlq') ORDER BY 1, 2""",
    "functions": """SELECT p.oid::regprocedure::text, coalesce(p.proacl::text, '') FROM pg_proc p
                    ORDER BY 1""",
    "roles": """SELECT r.rolname, r.rolcanlogin, r.rolinherit, r.rolconnlimit, coalesce(s.setconfig::text, '')
                FROM pg_roles r LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid
                WHERE r.rolname LIKE 'vanguard%' ORDER BY 1""",
    "database": "SELECT datacl::text FROM pg_database WHERE datname = current_database()",
    "migrations": "SELECT version, checksum, applied_at FROM vanguard.schema_migrations ORDER BY 1",
}


def snapshot(url: str) -> dict[str, list]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in SNAPSHOT_QUERIES.items()}


def test_migrations_are_ordered_and_uniquely_numbered():
    versions = [m.version for m in migrate.list_migrations()]
    assert versions == sorted(versions)
    numbers = [v.split("_", 1)[0] for v in versions]
    assert len(set(numbers)) == len(numbers)
    assert len(versions) >= 8


def test_first_upgrade_applies_everything_second_changes_nothing(empty_db, server_passwords):
    first = migrate.upgrade(empty_db.admin, **server_passwords)
    assert first.applied == [m.version for m in migrate.list_migrations()]
    before = snapshot(empty_db.admin)
    second = migrate.upgrade(empty_db.admin, **server_passwords)
    assert second.applied == []
    assert second.current == first.current
    assert snapshot(empty_db.admin) == before


def test_objects_are_owned_by_the_owner_role(db):
    with psycopg.connect(db.admin) as conn:
        owners = conn.execute(
            """SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('vanguard', 'nlq')"""
        ).fetchall()
    assert owners == [("vanguard_owner",)]


def test_an_edited_applied_migration_is_refused(db, monkeypatch, server_passwords):
    real = migrate.list_migrations()
    edited = [migrate.Migration(real[0].version, real[0].sql_text + "\n-- edited\n"), *real[1:]]
    monkeypatch.setattr(migrate, "list_migrations", lambda: edited)
    with pytest.raises(MigrationDrift) as err:
        migrate.upgrade(db.admin, **server_passwords)
    assert err.value.details["version"] == real[0].version


def test_a_failing_migration_leaves_nothing_of_itself(db, monkeypatch, server_passwords):
    broken = migrate.Migration("9999_broken", "CREATE TABLE vanguard.half_done (x int);\nSELECT 1/0;")
    real = migrate.list_migrations
    monkeypatch.setattr(migrate, "list_migrations", lambda: [*real(), broken])
    with pytest.raises(migrate.MigrationError):
        migrate.upgrade(db.admin, **server_passwords)
    with psycopg.connect(db.admin) as conn:
        assert conn.execute("SELECT to_regclass('vanguard.half_done')").fetchone()[0] is None
        versions = [r[0] for r in conn.execute("SELECT version FROM vanguard.schema_migrations")]
    assert "9999_broken" not in versions
    assert len(versions) == len(real())


def test_concurrent_upgrades_apply_each_migration_once(empty_db, server_passwords):
    results, errors = [], []

    def run() -> None:
        try:
            results.append(migrate.upgrade(empty_db.admin, **server_passwords))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = sorted(v for r in results for v in r.applied)
    assert applied == [m.version for m in migrate.list_migrations()]
