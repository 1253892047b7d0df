"""nlq_audit is append-only: the app role can add and read entries, never change or remove them."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

INSERT = ("INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict)"
          " VALUES ('ORG_A', 'query', 'how many cranes?', 'allowed') RETURNING id")


def test_the_app_role_can_insert_and_read(app_conn):
    audit_id = app_conn.execute(INSERT).fetchone()[0]
    assert app_conn.execute("SELECT question FROM vanguard.nlq_audit WHERE id = %s", (audit_id,)).fetchone() == (
        "how many cranes?",)


@pytest.mark.parametrize("statement", [
    "UPDATE vanguard.nlq_audit SET question = 'edited'",
    "DELETE FROM vanguard.nlq_audit",
    "TRUNCATE vanguard.nlq_audit",
])
def test_the_app_role_cannot_change_entries(app_conn, statement):
    app_conn.execute(INSERT)
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute(statement)
    assert app_conn.execute("SELECT question FROM vanguard.nlq_audit").fetchall() == [("how many cranes?",)]


@pytest.mark.parametrize("statement", [
    "UPDATE vanguard.nlq_audit SET question = 'edited'",
    "DELETE FROM vanguard.nlq_audit",
    "TRUNCATE vanguard.nlq_audit",
])
def test_even_the_owner_is_stopped_by_the_trigger(db, app_conn, statement):
    app_conn.execute(INSERT)
    with psycopg.connect(db.admin, autocommit=True) as conn:
        conn.execute("SET ROLE vanguard_owner")
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
    assert app_conn.execute("SELECT count(*) FROM vanguard.nlq_audit").fetchone() == (1,)
