"""The audit ledger's keyed seals and signed heads: what the database alone cannot forge.

Every tamper here is done as the superuser (the admin URL) with the append-only triggers
switched off, the way someone who owns the database could; the service's key never enters it.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from store import migrate
from store.audit import verify_chain
from store.audit_seal import InvalidHead, check_head, current_head, parse_head, seal_pending

INSERT = ("INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict, row_count)"
          " VALUES (%s, 'query', %s, 'allowed', %s) RETURNING id")

# Re-chain every entry from the first, with the database's own hash function: what an attacker
# who edited an entry does so that the sha256 chain verifies again.
RECHAIN = """
DO $$
DECLARE entry record; prev text := NULL;
BEGIN
    FOR entry IN SELECT id FROM vanguard.nlq_audit ORDER BY chain_position LOOP
        UPDATE vanguard.nlq_audit SET prev_hash = prev WHERE id = entry.id;
        UPDATE vanguard.nlq_audit AS a SET row_hash = vanguard.audit_row_hash_v2(a)
         WHERE a.id = entry.id RETURNING a.row_hash INTO prev;
    END LOOP;
END;
$$"""


def write(conn, *entries: tuple[str, str]) -> list[int]:
    return [conn.execute(INSERT, (org, question, n)).fetchone()[0] for n, (org, question) in enumerate(entries)]


def tamper(db, *statements: str, chain_trigger: bool = False) -> None:
    triggers = [("nlq_audit", "nlq_audit_append_only"), ("nlq_audit_seal", "nlq_audit_seal_append_only")]
    if chain_trigger:
        triggers.append(("nlq_audit", "nlq_audit_chain"))
    with psycopg.connect(db.admin, autocommit=True) as owner:
        for table, trigger in triggers:
            owner.execute(f"ALTER TABLE vanguard.{table} DISABLE TRIGGER {trigger}")
        for statement in statements:
            owner.execute(statement)
        for table, trigger in triggers:
            owner.execute(f"ALTER TABLE vanguard.{table} ENABLE TRIGGER {trigger}")


@pytest.fixture
def ledger(app_conn, audit_key):
    """Eight sealed entries, interleaved between two organizations."""
    ids = write(app_conn, *[("ORG_A" if i % 2 == 0 else "ORG_B", f"question {i}") for i in range(8)])
    assert seal_pending(app_conn, audit_key) == 8
    return ids


def broken(report) -> list[tuple[int, list[str]]]:
    return [(b["id"], b["problems"]) for b in report.broken]


def test_entries_are_sealed_once_in_chain_order(app_conn, audit_key, ledger):
    assert seal_pending(app_conn, audit_key) == 0
    seals = app_conn.execute("SELECT chain_position, audit_id, organization_id FROM vanguard.nlq_audit_seal"
                             " ORDER BY 1").fetchall()
    assert [s[1] for s in seals] == ledger and [s[0] for s in seals] == list(range(1, 9))
    report = verify_chain(app_conn, audit_key)
    assert report.intact and (report.checked, report.sealed, report.unsealed, report.legacy) == (8, 8, 0, 0)


def test_the_seal_table_is_append_only_for_the_app(app_conn, ledger):
    for statement in ("UPDATE vanguard.nlq_audit_seal SET mac = 'x'", "DELETE FROM vanguard.nlq_audit_seal",
                      "TRUNCATE vanguard.nlq_audit_seal"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app_conn.execute(statement)


# -- deleting the newest entries ------------------------------------------------------------------

def test_deleting_the_newest_entries_and_their_seals_is_caught_by_a_saved_head(db, app_conn, audit_key, ledger):
    head = current_head(app_conn, audit_key)
    assert head["position"] == 8 and check_head(app_conn, audit_key, head)["contained"]
    tamper(db, "DELETE FROM vanguard.nlq_audit WHERE chain_position > 5",
           "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position > 5")
    assert verify_chain(app_conn, audit_key).intact  # a clean cut looks whole from inside ...
    result = check_head(app_conn, audit_key, head)  # ... but not against the head a monitor kept
    assert result["signature_ok"] and not result["contained"] and result["current_position"] == 5
    assert "removed from its end" in result["message"]


def test_a_cut_hidden_by_new_entries_is_caught_by_the_saved_head(db, app_conn, audit_key, ledger):
    head = current_head(app_conn, audit_key)
    tamper(db, "DELETE FROM vanguard.nlq_audit WHERE chain_position > 6",
           "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position > 6")
    write(app_conn, ("ORG_A", "new 1"), ("ORG_A", "new 2"), ("ORG_A", "new 3"))
    seal_pending(app_conn, audit_key)
    assert verify_chain(app_conn, audit_key).intact
    result = check_head(app_conn, audit_key, head)
    assert not result["contained"] and result["current_position"] == 9 and "sealed differently" in result["message"]


def test_deleting_the_newest_entries_but_not_their_seals_is_a_break(db, app_conn, audit_key, ledger):
    tamper(db, "DELETE FROM vanguard.nlq_audit WHERE chain_position > 6")
    report = verify_chain(app_conn, audit_key)
    assert not report.intact and broken(report) == [(ledger[6], ["missing"]), (ledger[7], ["missing"])]


def test_deleting_seals_in_the_middle_is_a_break(db, app_conn, audit_key, ledger):
    tamper(db, "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position IN (3, 4)")
    report = verify_chain(app_conn, audit_key)
    assert broken(report) == [(ledger[2], ["unsealed"]), (ledger[3], ["unsealed"]), (ledger[4], ["mac"])]


# -- editing and re-chaining ----------------------------------------------------------------------

def test_an_edit_rechained_with_the_databases_own_hash_is_caught_by_the_seal(db, app_conn, audit_key, ledger):
    tamper(db, "UPDATE vanguard.nlq_audit SET question = 'nothing to see' WHERE chain_position = 3", RECHAIN)
    rechained = app_conn.execute(
        "SELECT bool_and(row_hash = vanguard.audit_row_hash_v2(a)) FROM vanguard.nlq_audit AS a").fetchone()[0]
    assert rechained  # the database's own chain verifies again ...
    report = verify_chain(app_conn, audit_key)  # ... the seal, made with a key it never had, does not
    assert not report.intact
    assert report.broken == [{"id": ledger[2], "position": 3, "problems": ["mac"], "content_ok": True,
                              "link_ok": True, "mac_ok": False, "organization_id": "ORG_A"}]


def test_a_forged_seal_made_with_sha256_is_caught(db, app_conn, audit_key, ledger):
    tamper(db, "UPDATE vanguard.nlq_audit SET row_count = 999 WHERE chain_position = 4", RECHAIN,
           "UPDATE vanguard.nlq_audit_seal SET mac = encode(sha256('forged'::bytea), 'hex') WHERE chain_position = 4")
    report = verify_chain(app_conn, audit_key)
    assert broken(report) == [(ledger[3], ["mac"]), (ledger[4], ["mac"])]  # and the next seal no longer links


def test_an_edit_without_rechaining_breaks_hash_and_seal(db, app_conn, audit_key, ledger):
    tamper(db, "UPDATE vanguard.nlq_audit SET question = 'edited' WHERE chain_position = 2")
    assert broken(verify_chain(app_conn, audit_key)) == [(ledger[1], ["content", "mac"])]


def test_an_edit_whose_seals_were_removed_is_caught_by_the_saved_head(db, app_conn, audit_key, ledger):
    """Remove the seals from the edited entry on, and the sealer seals the edit as found: only a
    head kept outside shows that the sealed ledger is no longer the one it saw."""
    head = current_head(app_conn, audit_key)
    tamper(db, "UPDATE vanguard.nlq_audit SET question = 'rewritten' WHERE chain_position = 5", RECHAIN,
           "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position >= 5")
    report = verify_chain(app_conn, audit_key)
    assert report.intact and report.unsealed == 4
    seal_pending(app_conn, audit_key)
    assert verify_chain(app_conn, audit_key).intact
    assert not check_head(app_conn, audit_key, head)["contained"]


# -- time -------------------------------------------------------------------------------------------

def test_an_insert_cannot_choose_its_time(app_conn):
    created, now = app_conn.execute(
        "INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict, created_at)"
        " VALUES ('ORG_A', 'query', 'back-dated?', 'allowed', '2001-01-01') RETURNING created_at, now()").fetchone()
    assert created == now


def test_back_dating_a_sealed_entry_is_caught(db, app_conn, audit_key, ledger):
    tamper(db, "UPDATE vanguard.nlq_audit SET created_at = created_at - interval '30 days'"
               " WHERE chain_position = 6", RECHAIN)
    assert broken(verify_chain(app_conn, audit_key)) == [(ledger[5], ["mac", "time_order"])]


def test_a_forged_back_dated_entry_is_caught_before_it_is_sealed(db, app_conn, audit_key, ledger):
    tamper(db, """INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict, created_at,
                                                  chain_position, chain_version, prev_hash)
                  SELECT 'ORG_A', 'query', 'slipped in', 'allowed', now() - interval '2 days', 9, 2, row_hash
                  FROM vanguard.nlq_audit WHERE chain_position = 8""",
           "UPDATE vanguard.nlq_audit AS a SET row_hash = vanguard.audit_row_hash_v2(a) WHERE chain_position = 9",
           chain_trigger=True)
    report = verify_chain(app_conn, audit_key)
    assert report.unsealed == 1 and [b["problems"] for b in report.broken] == [["time_order"]]


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"])
def test_another_session_timezone_verifies_intact(db, app_conn, audit_key, ledger, zone):
    with psycopg.connect(db.app, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (zone,))
        assert conn.execute("SHOW TimeZone").fetchone()[0] == zone
        report = verify_chain(conn, audit_key)
        assert report.intact and report.checked == 8
        write(conn, ("ORG_A", f"written in {zone}"))
        seal_pending(conn, audit_key)
    assert verify_chain(app_conn, audit_key).intact


def test_a_server_default_timezone_change_verifies_intact(db, app_conn, audit_key, ledger):
    with psycopg.connect(db.admin, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {psycopg.conninfo.conninfo_to_dict(db.app)['dbname']} SET TimeZone = 'Asia/Tokyo'")
    with psycopg.connect(db.app, autocommit=True) as conn:
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "Asia/Tokyo"
        assert verify_chain(conn, audit_key).intact


# -- organizations ----------------------------------------------------------------------------------

def test_a_break_in_another_organization_is_reported_without_naming_it(db, app_conn, audit_key, ledger):
    tamper(db, f"UPDATE vanguard.nlq_audit SET question = 'edited' WHERE id = {ledger[3]}", RECHAIN)  # ORG_B's
    mine = verify_chain(app_conn, audit_key, "ORG_A")
    assert not mine.intact and mine.broken == [] and mine.broken_elsewhere
    assert "a break exists outside your organization" in mine.message
    text = json.dumps(mine.to_dict())
    assert "ORG_B" not in text and f'"id": {ledger[3]}' not in text and '"position": 4' not in text
    theirs = verify_chain(app_conn, audit_key, "ORG_B")
    assert [b["id"] for b in theirs.broken] == [ledger[3]] and not theirs.broken_elsewhere
    assert "organization_id" not in theirs.broken[0]


def test_an_entry_moved_to_another_organization_is_reported_to_both(db, app_conn, audit_key, ledger):
    tamper(db, f"UPDATE vanguard.nlq_audit SET organization_id = 'ORG_B' WHERE id = {ledger[0]}", RECHAIN)
    for org in ("ORG_A", "ORG_B"):
        report = verify_chain(app_conn, audit_key, org)
        assert broken(report) == [(ledger[0], ["mac"])] and not report.broken_elsewhere


def test_a_removed_entry_is_reported_to_its_organization(db, app_conn, audit_key, ledger):
    tamper(db, f"DELETE FROM vanguard.nlq_audit WHERE id = {ledger[2]}", RECHAIN)  # ORG_A's, re-chained over
    mine = verify_chain(app_conn, audit_key, "ORG_A")
    assert (ledger[2], ["missing"]) in broken(mine)
    assert verify_chain(app_conn, audit_key, "ORG_B").broken_elsewhere


# -- heads ------------------------------------------------------------------------------------------

def test_a_head_is_signed(app_conn, audit_key, ledger):
    head = current_head(app_conn, audit_key)
    assert set(head) == {"position", "mac", "time", "signature"} and len(head["signature"]) == 64
    assert datetime.fromisoformat(head["time"]) > datetime.now(timezone.utc) - timedelta(minutes=1)
    for forged in ({**head, "position": 7}, {**head, "time": "2001-01-01T00:00:00Z"}, {**head, "mac": "0" * 64}):
        result = check_head(app_conn, audit_key, forged)
        assert not result["signature_ok"] and not result["contained"]
    assert not check_head(app_conn, b"another key of at least 32 bytes", head)["signature_ok"]


def test_an_empty_ledger_has_a_head_every_ledger_contains(app_conn, audit_key):
    head = current_head(app_conn, audit_key)
    assert (head["position"], head["mac"]) == (0, "")
    write(app_conn, ("ORG_A", "first"))
    assert check_head(app_conn, audit_key, head)["contained"]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"position": 1}', '{"position": -1, "mac": "", "time": "",'
                                  ' "signature": "' + "0" * 64 + '"}', '{"position": true, "mac": "", "time": "", '
                                  '"signature": "' + "0" * 64 + '"}'])
def test_a_malformed_head_is_refused(text):
    with pytest.raises(InvalidHead):
        parse_head(text)


# -- concurrency and history ------------------------------------------------------------------------

def test_concurrent_writers_and_sealers_seal_every_entry_once(db, app_conn, audit_key):
    def writer(tag: str) -> None:
        with psycopg.connect(db.app, autocommit=True) as conn:
            for i in range(25):
                write(conn, ("ORG_A", f"{tag}{i}"))

    def sealer() -> None:
        with psycopg.connect(db.app, autocommit=True) as conn:
            for _ in range(15):
                seal_pending(conn, audit_key)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "abc"] + [threading.Thread(target=sealer)
                                                                            for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seal_pending(app_conn, audit_key)
    report = verify_chain(app_conn, audit_key)
    assert report.intact and report.checked == report.sealed == 75


def test_entries_chained_before_sealing_still_verify_as_legacy(empty_db, server_passwords, audit_key, monkeypatch):
    real = migrate.list_migrations()
    before = [m for m in real if m.version < "0015"]
    monkeypatch.setattr(migrate, "list_migrations", lambda: before)
    migrate.upgrade(empty_db.admin, **server_passwords)
    with psycopg.connect(empty_db.app, autocommit=True) as conn:
        old = write(conn, ("ORG_A", "old 1"), ("ORG_B", "old 2"), ("ORG_A", "old 3"))
    monkeypatch.setattr(migrate, "list_migrations", lambda: real)
    migrate.upgrade(empty_db.admin, **server_passwords)
    with psycopg.connect(empty_db.app, autocommit=True) as conn:
        report = verify_chain(conn, audit_key)
        assert report.intact and (report.legacy, report.unsealed) == (3, 3) and "predate sealing" in report.message
        new = write(conn, ("ORG_A", "new"))
        assert seal_pending(conn, audit_key) == 4
        conn.execute("SET TimeZone = 'Asia/Kolkata'")
        report = verify_chain(conn, audit_key)
        assert report.intact and (report.checked, report.sealed, report.legacy) == (4, 4, 3)
        assert conn.execute("SELECT chain_version FROM vanguard.nlq_audit WHERE id = %s", (new[0],)).fetchone() == (2,)
    tamper(empty_db, f"UPDATE vanguard.nlq_audit SET question = 'edited' WHERE id = {old[1]}")
    with psycopg.connect(empty_db.app, autocommit=True) as conn:
        assert broken(verify_chain(conn, audit_key)) == [(old[1], ["content", "mac"])]


def test_an_entrys_conversation_is_hashed_and_sealed(db, app_conn, audit_key, ledger):
    """The conversation link is covered where it is set: moving an entry to another conversation,
    or clearing or adding the link, breaks both the database's hash and the seal."""
    linked = [app_conn.execute("INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict,"
                               " conversation_id) VALUES ('ORG_A', 'query', %s, 'allowed', gen_random_uuid())"
                               " RETURNING id", (q,)).fetchone()[0] for q in ("in a conversation", "also")]
    assert seal_pending(app_conn, audit_key) == 2
    assert verify_chain(app_conn, audit_key).intact
    tamper(db, f"UPDATE vanguard.nlq_audit SET conversation_id = gen_random_uuid() WHERE id = {linked[0]}",
           f"UPDATE vanguard.nlq_audit SET conversation_id = NULL WHERE id = {linked[1]}",
           f"UPDATE vanguard.nlq_audit SET conversation_id = gen_random_uuid() WHERE id = {ledger[0]}")
    assert sorted(broken(verify_chain(app_conn, audit_key))) == sorted(
        [(linked[0], ["content", "mac"]), (linked[1], ["content", "mac"]), (ledger[0], ["content", "mac"])])
