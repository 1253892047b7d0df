"""Committing drafts and writing them back to the simulator: every draft ends in one terminal state,
and PEMS applies each write exactly once."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from store.sync.worker import sync_organization
from store.sync.writeback import commit_drafts, deliver_outbox
from tests.helpers import add_org, add_user

RID = "PFA-0000003"


@pytest.fixture
def world(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 50)
    add_org(app_conn, "ORG_A")
    assert sync_organization(db.app, pems.client(), "ORG_A").status == "succeeded"
    user = add_user(app_conn, "alice", {"ORG_A": "editor"})
    return pems, user


def save_draft(conn, user: int, record_id: str, delta: dict) -> int:
    """A working draft with its base taken from the mirror, as the draft API does."""
    data = conn.execute("SELECT data FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND id = %s",
                        (record_id,)).fetchone()[0]
    base = {k: data.get(k) for k in delta}
    return conn.execute("INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, state, delta, base)"
                        " VALUES ('ORG_A', %s, %s, 'draft', %s, %s) RETURNING id",
                        (user, record_id, Jsonb(delta), Jsonb(base))).fetchone()[0]


def draft_state(conn, draft_id: int) -> tuple:
    return conn.execute("SELECT state, detail FROM vanguard.pfa_draft WHERE id = %s", (draft_id,)).fetchone()


def outbox(conn) -> list[tuple]:
    return conn.execute("SELECT status, attempts, last_error FROM vanguard.writeback_outbox ORDER BY id").fetchall()


def pems_record(pems, record_id: str = RID) -> tuple[dict, int]:
    return pems.sim.snapshot("ORG_A")[record_id]


def test_a_clean_draft_is_written_once_and_ends_synced(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"forecastEnd": "2031-03-31", "area": "Jetty"})
    result = commit_drafts(app_conn, "ORG_A", user)
    assert result.committed == [RID] and result.conflicts == [] and result.commit_id
    assert draft_state(app_conn, draft)[0] == "committed"
    delivered = deliver_outbox(db.app, pems.client())
    assert (delivered.claimed, delivered.synced) == (1, 1)
    data, recordid = pems_record(pems)
    assert (data["forecastEnd"], data["area"], recordid) == ("2031-03-31", "Jetty", 2)
    mirror = app_conn.execute("SELECT data, pems_record_id FROM vanguard.pfa_mirror WHERE id = %s", (RID,)).fetchone()
    assert mirror == (data, 2)
    assert draft_state(app_conn, draft) == ("synced", None)
    assert outbox(app_conn) == [("done", 1, None)]
    assert pems.sim.writes == 1
    assert deliver_outbox(db.app, pems.client()).claimed == 0  # nothing is sent twice
    run = app_conn.execute("SELECT direction, kind, status, updated FROM vanguard.sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run == ("write", "writeback", "succeeded", 1)


def test_same_field_changed_in_pems_becomes_a_conflict_with_both_values(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Mine"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.sim.orgs["ORG_A"][RID].data["area"] = "Theirs"  # someone edits PEMS directly ...
    pems.sim.orgs["ORG_A"][RID].rendered = None
    pems.sim.orgs["ORG_A"][RID].recordid += 1  # ... which bumps the update counter
    delivered = deliver_outbox(db.app, pems.client())
    assert delivered.conflicts == 1 and pems.sim.writes == 0
    state, detail = draft_state(app_conn, draft)
    assert state == "conflict"
    assert detail["conflicts"]["area"]["mine"] == "Mine" and detail["conflicts"]["area"]["theirs"] == "Theirs"
    assert app_conn.execute("SELECT data->>'area' FROM vanguard.pfa_mirror WHERE id = %s", (RID,)).fetchone() == ("Theirs",)
    assert outbox(app_conn)[0][0] == "failed"


def test_a_different_field_changed_in_pems_is_merged_and_synced(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Mine"})
    commit_drafts(app_conn, "ORG_A", user)
    changed = pems.control("change", org="ORG_A", count=50, seed=1)["ids"]  # changes forecastEnd of every record
    assert RID in changed
    delivered = deliver_outbox(db.app, pems.client())
    assert (delivered.rebased, delivered.synced, delivered.conflicts) == (1, 1, 0)
    data, recordid = pems_record(pems)
    assert data["area"] == "Mine" and recordid == 3
    assert draft_state(app_conn, draft)[0] == "synced"
    assert pems.sim.writes == 1


def test_conflicts_found_at_commit_time_after_a_sync(db, app_conn, world):
    pems, user = world
    same = save_draft(app_conn, user, "PFA-0000004", {"forecastEnd": "2030-01-01"})
    other = save_draft(app_conn, user, "PFA-0000005", {"area": "Camp"})
    pems.control("change", org="ORG_A", count=50, seed=2)  # moves forecastEnd everywhere
    sync_organization(db.app, pems.client(), "ORG_A")
    result = commit_drafts(app_conn, "ORG_A", user)
    assert result.committed == ["PFA-0000005"]
    assert [c["record_id"] for c in result.conflicts] == ["PFA-0000004"]
    assert set(result.conflicts[0]["fields"]) == {"forecastEnd"}
    assert draft_state(app_conn, same)[0] == "conflict" and draft_state(app_conn, other)[0] == "committed"
    assert deliver_outbox(db.app, pems.client()).synced == 1


def test_an_answer_lost_after_pems_applied_the_write_is_recovered_by_replay(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Once"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("faults", drop_after_write=1)
    delivered = deliver_outbox(db.app, pems.client())
    assert delivered.synced == 1
    assert pems.sim.writes == 1, "PEMS must apply the write exactly once"
    assert pems_record(pems)[1] == 2
    assert draft_state(app_conn, draft)[0] == "synced"


def test_a_worker_that_died_after_pems_applied_is_taken_over(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Once"})
    commit_drafts(app_conn, "ORG_A", user)
    # A worker claims the row, PEMS applies the write, and the worker dies before recording it.
    key, payload = app_conn.execute(
        "UPDATE vanguard.writeback_outbox SET status = 'in_flight', attempts = 1, updated_at = now() - interval '1 hour'"
        " RETURNING idempotency_key::text, payload").fetchone()
    pems.client().update_record("ORG_A", RID, payload["recordid"], payload["changes"], key)
    assert pems.sim.writes == 1
    delivered = deliver_outbox(db.app, pems.client(), lease_seconds=60)
    assert delivered.synced == 1 and pems.sim.writes == 1
    assert draft_state(app_conn, draft)[0] == "synced"
    assert app_conn.execute("SELECT pems_record_id FROM vanguard.pfa_mirror WHERE id = %s", (RID,)).fetchone() == (2,)


def test_unavailable_pems_is_retried_with_backoff_then_gives_sync_error(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Later"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("faults", error_rate=1.0)
    client = pems.client(max_attempts=1)
    first = deliver_outbox(db.app, client, max_attempts=2)
    assert first.retrying == 1 and draft_state(app_conn, draft)[0] == "committed"
    status, attempts, error = outbox(app_conn)[0]
    assert (status, attempts) == ("pending", 1) and "HTTP 503" in error
    assert deliver_outbox(db.app, client, max_attempts=2).claimed == 0  # not due yet: backoff
    # PEMS cannot even be read, so whether it applied the write is unknown: the row gets as many
    # attempts again before it gives up, and says so.
    for attempt in (2, 3):
        app_conn.execute("UPDATE vanguard.writeback_outbox SET next_attempt_at = now()")
        assert deliver_outbox(db.app, client, max_attempts=2).retrying == 1, attempt
    assert draft_state(app_conn, draft)[0] == "committed"
    app_conn.execute("UPDATE vanguard.writeback_outbox SET next_attempt_at = now()")
    last = deliver_outbox(db.app, client, max_attempts=2)
    assert last.errors == 1
    state, detail = draft_state(app_conn, draft)
    assert state == "sync_error" and "after 4 attempts" in detail["error"] and "could not be checked" in detail["error"]
    assert pems.sim.writes == 0


def test_a_write_seen_not_applied_gives_up_after_max_attempts(db, app_conn, world):
    """5xx before PEMS did anything, while reads work: the read-back shows the old version."""
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Never"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("faults", refuse_writes=100)  # every UPDATE answered 503 untouched; reads work
    client = pems.client(max_attempts=1)
    first = deliver_outbox(db.app, client, max_attempts=2, backoff_seconds=0)
    assert first.retrying == 1 and draft_state(app_conn, draft)[0] == "committed"
    result = deliver_outbox(db.app, client, max_attempts=2, backoff_seconds=0)
    assert result.errors == 1 and pems.sim.writes == 0
    state, detail = draft_state(app_conn, draft)
    assert state == "sync_error" and "after 2 attempts" in detail["error"] and "could not be checked" not in detail["error"]


def test_a_write_pems_refuses_is_a_sync_error_with_the_reason(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"forecastEnd": "2000-01-01"})
    commit_drafts(app_conn, "ORG_A", user)
    delivered = deliver_outbox(db.app, pems.client())
    assert delivered.errors == 1
    state, detail = draft_state(app_conn, draft)
    assert state == "sync_error" and "Forecast end is before forecast start" in detail["error"]


def test_commit_of_one_change_set_leaves_other_drafts_alone(db, app_conn, world):
    pems, user = world
    change_set = app_conn.execute("INSERT INTO vanguard.change_sets (organization_id, user_id, origin)"
                                  " VALUES ('ORG_A', %s, 'manual') RETURNING id", (user,)).fetchone()[0]
    inside = save_draft(app_conn, user, "PFA-0000006", {"area": "In"})
    outside = save_draft(app_conn, user, "PFA-0000007", {"area": "Out"})
    app_conn.execute("UPDATE vanguard.pfa_draft SET change_set_id = %s WHERE id = %s", (change_set, inside))
    result = commit_drafts(app_conn, "ORG_A", user, change_set_id=change_set)
    assert result.committed == ["PFA-0000006"]
    assert draft_state(app_conn, outside)[0] == "draft"


def test_nothing_to_commit(app_conn, world):
    _, user = world
    assert commit_drafts(app_conn, "ORG_A", user).commit_id is None


def test_concurrent_commits_of_the_same_drafts_commit_each_once(db, app_conn, world):
    import threading
    pems, user = world
    for i in range(10, 30):
        save_draft(app_conn, user, f"PFA-{i:07d}", {"area": "Race"})
    results = []

    def commit() -> None:
        with psycopg.connect(db.app, autocommit=True) as conn:
            results.append(commit_drafts(conn, "ORG_A", user))

    threads = [threading.Thread(target=commit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committed = [rid for r in results for rid in r.committed]
    assert sorted(committed) == [f"PFA-{i:07d}" for i in range(10, 30)]
    assert app_conn.execute("SELECT count(*) FROM vanguard.writeback_outbox").fetchone() == (20,)


def test_a_pems_that_keeps_reporting_stale_versions_never_loses_the_draft(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Patient"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("faults", stale_recordid=True)
    delivered = deliver_outbox(db.app, pems.client(), rounds=2)
    assert delivered.rebased == 2 and delivered.synced == 0 and pems.sim.writes == 0
    assert draft_state(app_conn, draft)[0] == "committed"
    assert outbox(app_conn)[0][0] == "pending"
    pems.control("faults", stale_recordid=False)
    assert deliver_outbox(db.app, pems.client()).synced == 1
    assert draft_state(app_conn, draft)[0] == "synced" and pems.sim.writes == 1


def mirror_row(conn, record_id: str = RID) -> tuple:
    return conn.execute("SELECT data, pems_record_id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A'"
                        " AND id = %s", (record_id,)).fetchone()


def test_a_busy_refusal_of_the_retry_after_a_lost_answer_is_synced_not_an_error(db, app_conn, world):
    """PEMS applied the write, lost the answer, and refuses the retry with the same key as busy."""
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Applied"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("faults", drop_after_write=1, busy_on_replay=10)
    delivered = deliver_outbox(db.app, pems.client())
    assert (delivered.synced, delivered.errors) == (1, 0)
    assert draft_state(app_conn, draft) == ("synced", None)
    assert pems.sim.writes_of("ORG_A") == {RID: 1}
    data, recordid = mirror_row(app_conn)
    assert data["area"] == "Applied" and recordid == 2


def test_a_taken_over_row_whose_key_pems_still_processes_is_read_back(db, app_conn, world):
    """The worker died after sending; its successor's first send with the key is answered 'busy'."""
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Once"})
    commit_drafts(app_conn, "ORG_A", user)
    key, payload = app_conn.execute(
        "UPDATE vanguard.writeback_outbox SET status = 'in_flight', attempts = 1, key_sent_at = now(),"
        " updated_at = now() - interval '1 hour' RETURNING idempotency_key::text, payload").fetchone()
    pems.client().update_record("ORG_A", RID, payload["recordid"], payload["changes"], key)
    pems.control("faults", busy_on_replay=10)
    delivered = deliver_outbox(db.app, pems.client(), lease_seconds=60)
    assert (delivered.synced, delivered.errors) == (1, 0)
    assert draft_state(app_conn, draft)[0] == "synced" and pems.sim.writes_of("ORG_A") == {RID: 1}


def test_a_write_pems_did_not_apply_is_retried_with_the_same_key(db, app_conn, world):
    """Timeouts before PEMS did anything: the read-back shows the old version, so the row waits."""
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Later"})
    commit_drafts(app_conn, "ORG_A", user)
    key = app_conn.execute("SELECT idempotency_key FROM vanguard.writeback_outbox").fetchone()[0]
    pems.control("faults", timeout_rate=1.0, timeout_seconds=1.0)
    first = deliver_outbox(db.app, pems.client(max_attempts=1, timeout_seconds=0.3), backoff_seconds=0)
    assert first.retrying == 1 and draft_state(app_conn, draft)[0] == "committed"
    pems.control("faults", timeout_rate=0.0)
    assert deliver_outbox(db.app, pems.client()).synced == 1
    assert app_conn.execute("SELECT idempotency_key FROM vanguard.writeback_outbox").fetchone()[0] == key
    assert pems.sim.writes_of("ORG_A") == {RID: 1}


def test_a_replayed_first_answer_never_rolls_the_mirror_back(db, app_conn, world):
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Mine"})
    commit_drafts(app_conn, "ORG_A", user)
    # A worker's write reaches PEMS (recordid 2), the worker dies; someone edits PEMS (recordid 3)
    # and a sync stores that newer version before the row is taken over.
    key, payload = app_conn.execute(
        "UPDATE vanguard.writeback_outbox SET status = 'in_flight', attempts = 1, key_sent_at = now(),"
        " updated_at = now() - interval '1 hour' RETURNING idempotency_key::text, payload").fetchone()
    pems.client().update_record("ORG_A", RID, payload["recordid"], payload["changes"], key)
    pems.control("edit", org="ORG_A", id=RID, changes={"dor": "BEO" if pems_record(pems)[0]["dor"] != "BEO" else "PROJECT"})
    newest, newest_id = pems_record(pems)
    assert newest_id == 3
    assert sync_organization(db.app, pems.client(), "ORG_A").status == "succeeded"
    assert mirror_row(app_conn) == (newest, 3)
    delivered = deliver_outbox(db.app, pems.client(), lease_seconds=60)
    assert delivered.synced == 1 and pems.sim.writes_of("ORG_A") == {RID: 1}
    assert draft_state(app_conn, draft)[0] == "synced"
    assert mirror_row(app_conn) == (newest, 3), "the replay (recordid 2) must not replace version 3"


def test_a_worker_that_lost_its_lease_changes_nothing_and_sends_nothing_more(db, app_conn, world):
    """Worker A stalls past its lease; B takes the row over, rebases and syncs it; A then wakes up."""
    import threading
    pems, user = world
    draft = save_draft(app_conn, user, RID, {"area": "Mine"})
    commit_drafts(app_conn, "ORG_A", user)
    pems.control("edit", org="ORG_A", id=RID, changes={"forecastEnd": "2033-01-31"})  # recordid 2: A's is stale
    sending, resume = threading.Event(), threading.Event()

    def stall(request) -> None:
        if request.url.path.endswith("userdefinedscreenservices") and not sending.is_set():
            sending.set()
            resume.wait(30)

    stalled = pems.client()
    stalled.http.event_hooks["request"] = [stall]
    results = {}
    worker_a = threading.Thread(target=lambda: results.setdefault(
        "a", deliver_outbox(db.app, stalled, lease_seconds=1, worker="A")))
    worker_a.start()
    assert sending.wait(10)
    import time
    time.sleep(1.3)  # A's lease runs out while its request is on the way
    b = deliver_outbox(db.app, pems.client(), lease_seconds=1, worker="B")
    assert (b.rebased, b.synced) == (1, 1)
    resume.set()
    worker_a.join(30)
    assert pems.sim.writes_of("ORG_A") == {RID: 1}, "the change must reach PEMS exactly once"
    a = results["a"]
    assert (a.lost, a.synced, a.rebased, a.conflicts, a.errors) == (1, 0, 0, 0, 0)
    assert draft_state(app_conn, draft) == ("synced", None)
    data, recordid = pems_record(pems)
    assert (data["area"], data["forecastEnd"], recordid) == ("Mine", "2033-01-31", 3)
    assert app_conn.execute("SELECT status, claimed_by FROM vanguard.writeback_outbox").fetchone() == ("done", "B")


def test_outbox_updates_are_fenced_by_the_claim(db, app_conn, world):
    """Every outbox change names the worker and its lease token: a stale claim matches nothing."""
    from store import queries
    q = queries.load("writeback")
    pems, user = world
    save_draft(app_conn, user, RID, {"area": "Fenced"})
    commit_drafts(app_conn, "ORG_A", user)
    claim = {"org": None, "limit": 10, "lease_seconds": 0}
    (old,) = app_conn.execute(q["claim_outbox"], {**claim, "worker": "A"}).fetchall()
    (new,) = app_conn.execute(q["claim_outbox"], {**claim, "worker": "B"}).fetchall()  # lease 0: taken over
    assert old[0] == new[0] and old[7] != new[7]
    stale = {"id": old[0], "worker": "A", "token": old[7]}
    assert app_conn.execute(q["renew_claim"], stale).fetchone() is None
    assert app_conn.execute(q["retry_outbox_later"], {**stale, "error": "x", "delay": 0}).fetchone() is None
    assert app_conn.execute(q["rebase_outbox"], {**stale, "payload": Jsonb({}), "error": "x"}).fetchone() is None
    assert app_conn.execute(q["finish_delivery"], {**stale, "status": "done", "error": None, "state": "synced",
                                                   "detail": None}).fetchone() is None
    same_worker_old_token = {**stale, "token": old[7], "worker": "B"}
    assert app_conn.execute(q["renew_claim"], same_worker_old_token).fetchone() is None
    assert app_conn.execute("SELECT status, claimed_by, payload->'changes' FROM vanguard.writeback_outbox").fetchone() \
        == ("in_flight", "B", {"area": "Fenced"})
    assert app_conn.execute("SELECT state FROM vanguard.pfa_draft").fetchone() == ("committed",)
