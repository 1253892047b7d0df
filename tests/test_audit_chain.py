"""The audit ledger's hash chain: built at insert, verified by recomputation, tampering detected."""

from __future__ import annotations

import threading

import psycopg

from store.audit import verify_chain

INSERT = ("INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict, row_count)"
          " VALUES (%s, 'query', %s, 'allowed', %s) RETURNING id, prev_hash, row_hash")


def test_each_row_links_to_the_previous_one(app_conn, audit_key):
    first = app_conn.execute(INSERT, ("ORG_A", "q1", 1)).fetchone()
    second = app_conn.execute(INSERT, ("ORG_B", "q2", 2)).fetchone()
    assert first[1] is None and len(first[2]) == 64
    assert second[1] == first[2]
    report = verify_chain(app_conn, audit_key)
    assert report.intact and report.checked == 2


def test_an_edit_below_the_trigger_is_detected(db, app_conn, audit_key):
    for i in range(5):
        app_conn.execute(INSERT, ("ORG_A", f"question {i}", i))
    with psycopg.connect(db.admin, autocommit=True) as owner:  # the owner can switch triggers off ...
        owner.execute("ALTER TABLE vanguard.nlq_audit DISABLE TRIGGER nlq_audit_append_only")
        owner.execute("UPDATE vanguard.nlq_audit SET row_count = 999 WHERE question = 'question 2'")
        owner.execute("ALTER TABLE vanguard.nlq_audit ENABLE TRIGGER nlq_audit_append_only")
    report = verify_chain(app_conn, audit_key)  # ... but not make the edit invisible
    assert not report.intact
    assert [b["id"] for b in report.broken] == [3] and report.broken[0]["content_ok"] is False


def test_a_deleted_row_breaks_the_next_link(db, app_conn, audit_key):
    for i in range(4):
        app_conn.execute(INSERT, ("ORG_A", f"q{i}", i))
    with psycopg.connect(db.admin, autocommit=True) as owner:
        owner.execute("ALTER TABLE vanguard.nlq_audit DISABLE TRIGGER nlq_audit_append_only")
        owner.execute("DELETE FROM vanguard.nlq_audit WHERE question = 'q1'")
        owner.execute("ALTER TABLE vanguard.nlq_audit ENABLE TRIGGER nlq_audit_append_only")
    report = verify_chain(app_conn, audit_key)
    assert [(b["id"], b["link_ok"]) for b in report.broken] == [(3, False)]


def test_concurrent_inserts_keep_one_chain(db, app_conn, audit_key):
    def insert_many(tag: str) -> None:
        with psycopg.connect(db.app, autocommit=True) as conn:
            for i in range(20):
                conn.execute(INSERT, ("ORG_A", f"{tag}{i}", i))

    threads = [threading.Thread(target=insert_many, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_chain(app_conn, audit_key)
    assert report.checked == 60 and report.intact
