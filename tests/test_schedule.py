"""The scheduler: syncs organizations when due (full when a reconcile is due), delivers write-back,
and runs inside the app's lifespan."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg.types.json import Jsonb

from nlq.app import create_app
from nlq.config import Settings
from store.sync.schedule import Schedule, run_pass, sync_due_organizations
from store.sync.writeback import commit_drafts
from tests.helpers import add_org, add_user


def test_a_pass_syncs_due_organizations_and_then_waits_for_the_interval(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A", "ORG_B"], 100)
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
    schedule = Schedule(interval_seconds=3600, full_every_seconds=7200)
    first = run_pass(db.app, pems.client(), schedule)
    assert [(r.organization_id, r.kind, r.status, r.inserted) for r in first.syncs] == [
        ("ORG_A", "full", "succeeded", 100), ("ORG_B", "full", "succeeded", 100)]
    assert run_pass(db.app, pems.client(), schedule).syncs == []  # nothing is due within the interval
    app_conn.execute("UPDATE vanguard.sync_state SET last_attempt_at = now() - interval '2 hours'"
                     " WHERE organization_id = 'ORG_A'")
    again = run_pass(db.app, pems.client(), schedule)
    assert [(r.organization_id, r.kind) for r in again.syncs] == [("ORG_A", "incremental")]
    app_conn.execute("UPDATE vanguard.sync_state SET last_attempt_at = now() - interval '3 hours',"
                     " last_full_at = now() - interval '3 hours' WHERE organization_id = 'ORG_B'")
    assert [(r.organization_id, r.kind) for r in run_pass(db.app, pems.client(), schedule).syncs] == [("ORG_B", "full")]


def test_a_pass_delivers_committed_drafts(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 20)
    add_org(app_conn, "ORG_A")
    run_pass(db.app, pems.client(), Schedule())
    user = add_user(app_conn, "alice", {"ORG_A": "editor"})
    app_conn.execute("INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, state, delta, base)"
                     " SELECT 'ORG_A', %s, id, 'draft', %s, jsonb_build_object('area', data->'area')"
                     " FROM vanguard.pfa_mirror WHERE id = 'PFA-0000002'", (user, Jsonb({"area": "Jetty"})))
    commit_drafts(app_conn, "ORG_A", user)
    result = run_pass(db.app, pems.client(), Schedule(), syncs=False)
    assert result.delivery.synced == 1
    assert pems.sim.snapshot("ORG_A")["PFA-0000002"][0]["area"] == "Jetty"


async def test_the_app_lifespan_runs_the_scheduler(db, pems_factory):
    pems = pems_factory(["ORG_A"], 60)
    with psycopg.connect(db.app, autocommit=True) as conn:
        add_org(conn, "ORG_A")
    app = create_app(Settings(), db, pems.client().settings)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            with psycopg.connect(db.app) as conn:
                count = conn.execute("SELECT count(*) FROM vanguard.pfa_mirror").fetchone()[0]
            if count == 60:
                break
            await asyncio.sleep(0.1)
        assert count == 60
    assert app.state.scheduler.running is False


def test_the_start_up_sync_follows_the_runs_recorded_in_the_database(db, app_conn, pems_factory):
    """What `vanguard serve` runs before it serves: a restart (or a second process) within the
    interval syncs nothing; an organization whose last run is old enough is synced, full when due."""
    pems = pems_factory(["ORG_A", "ORG_B"], 50)
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
    schedule = Schedule(interval_seconds=900, full_every_seconds=86_400)
    first = sync_due_organizations(db.app, pems.client(), schedule)
    assert [(r.organization_id, r.kind, r.status) for r in first] == [
        ("ORG_A", "full", "succeeded"), ("ORG_B", "full", "succeeded")]
    assert sync_due_organizations(db.app, pems.client(), schedule) == []  # the restart
    app_conn.execute("UPDATE vanguard.sync_state SET last_attempt_at = now() - interval '20 minutes'"
                     " WHERE organization_id = 'ORG_B'")
    assert [(r.organization_id, r.kind) for r in sync_due_organizations(db.app, pems.client(), schedule)] == [
        ("ORG_B", "incremental")]


def test_processes_starting_together_sync_each_organization_once(db, app_conn, pems_factory):
    import threading

    orgs = ["ORG_A", "ORG_B", "ORG_C", "ORG_D"]
    pems = pems_factory(orgs, 40)
    for org in orgs:
        add_org(app_conn, org)
    pems.control("faults", latency_ms=20)
    schedule = Schedule(interval_seconds=900)
    outcomes: list = []
    start = threading.Barrier(4)

    def process() -> None:
        start.wait()
        outcomes.extend(sync_due_organizations(db.app, pems.client(), schedule))

    threads = [threading.Thread(target=process) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.organization_id for r in outcomes) == orgs, "each organization synced exactly once"
    assert all(r.status == "succeeded" for r in outcomes)
    runs = app_conn.execute("SELECT organization_id, count(*) FROM vanguard.sync_runs GROUP BY 1 ORDER BY 1").fetchall()
    assert runs == [(org, 1) for org in orgs]


def test_the_overlap_setting_reaches_the_schedule(monkeypatch):
    monkeypatch.setenv("VANGUARD_SYNC_OVERLAP_SECONDS", "300")
    assert Settings().schedule().overlap_seconds == 300
    monkeypatch.setenv("VANGUARD_SYNC_OVERLAP_SECONDS", "-1")
    with pytest.raises(ValueError):
        Settings()


def test_every_sync_and_its_log_line_name_the_pems(db, app_conn, pems_factory, caplog):
    """A run read from which PEMS is in its result, its `sync_runs` row and the log line; the
    write-back run names it too."""
    pems = pems_factory(["ORG_A"], 20)
    add_org(app_conn, "ORG_A")
    named = pems.client(name="built-in simulator of /srv/vanguard")
    with caplog.at_level("INFO", logger="store.sync.schedule"):
        result = run_pass(db.app, named, Schedule(interval_seconds=900))
    assert [r.pems for r in result.syncs] == ["built-in simulator of /srv/vanguard"]
    assert any("sync ORG_A (full) from built-in simulator of /srv/vanguard: succeeded" in r.getMessage()
               for r in caplog.records), caplog.text
    user = add_user(app_conn, "ed", {"ORG_A": "editor"})
    app_conn.execute("INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, state, delta, base)"
                     " SELECT 'ORG_A', %s, id, 'draft', %s, jsonb_build_object('area', data->'area')"
                     " FROM vanguard.pfa_mirror WHERE id = 'PFA-0000002'", (user, Jsonb({"area": "Silo 4"})))
    commit_drafts(app_conn, "ORG_A", user)
    delivered = run_pass(db.app, pems.client(), Schedule(interval_seconds=900), syncs=False)  # unnamed: the URL
    assert delivered.delivery.synced == 1
    runs = app_conn.execute("SELECT direction, detail ->> 'pems' FROM vanguard.sync_runs ORDER BY id").fetchall()
    assert runs == [("read", "built-in simulator of /srv/vanguard"), ("write", pems.url)]


def test_a_sync_whose_process_died_is_taken_over_after_the_lease_and_a_live_one_is_not(db, app_conn, pems_factory):
    """A run left unfinished (its process was killed mid-read) is taken over once the lease has
    passed and nobody holds the organization's sync lock; while a session holds the lock (the run
    is alive, only slow), nobody takes it over."""
    pems = pems_factory(["ORG_A"], 30)
    add_org(app_conn, "ORG_A")
    schedule = Schedule(interval_seconds=3600, sync_lease_seconds=60)
    assert [r.status for r in run_pass(db.app, pems.client(), schedule).syncs] == ["succeeded"]
    # What a worker killed after its claim leaves behind: a fresh attempt and an unfinished run.
    abandoned = app_conn.execute("INSERT INTO vanguard.sync_runs (organization_id, direction, kind)"
                                 " VALUES ('ORG_A', 'read', 'incremental') RETURNING id").fetchone()[0]
    app_conn.execute("UPDATE vanguard.sync_state SET last_attempt_at = now() - interval '30 seconds'")
    assert run_pass(db.app, pems.client(), schedule).syncs == []  # within the lease: it may still be running
    app_conn.execute("UPDATE vanguard.sync_state SET last_attempt_at = now() - interval '90 seconds'")
    with psycopg.connect(db.app, autocommit=True) as alive:  # the run's session still holds the lock
        alive.execute("SELECT pg_advisory_lock(hashtextextended('vanguard.sync:ORG_A', 0))")
        assert run_pass(db.app, pems.client(), schedule).syncs == []
    taken = run_pass(db.app, pems.client(), schedule).syncs
    assert [(r.organization_id, r.status) for r in taken] == [("ORG_A", "succeeded")]
    status, error = app_conn.execute("SELECT status, error FROM vanguard.sync_runs WHERE id = %s", (abandoned,)).fetchone()
    assert status == "failed" and error.startswith("abandoned")
    assert run_pass(db.app, pems.client(), schedule).syncs == []  # once: the interval applies again
