"""Sync runs against the simulator over HTTP and a real PostgreSQL.

PEMS changes while it is read: `sync_pems` serves a PEMS whose users change, add and delete records
between the pages of every read, and `synced` checks each run against what PEMS held before and
after it (`nlq.bench.faults_reads.check_run`: exact versions, deletions and counts). Tests that
count records opt out with `churn=None` and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from nlq.bench.faults_reads import check_run, read_mirror
from store.pems.simulator import Churn, Served
from store.sync.worker import SyncResult, sync_organization
from tests.helpers import add_draft, add_org, add_user

CHECKSUM = ("SELECT md5(coalesce(string_agg(id || data::text || coalesce(pems_record_id::text, '')"
            " || coalesce(deleted_at::text, ''), '|' ORDER BY id), ''))"
            " FROM vanguard.pfa_mirror WHERE organization_id = %s")


def mirror_of(conn, org: str) -> dict[str, tuple[dict, int]]:
    rows = conn.execute("SELECT id, data, pems_record_id FROM vanguard.pfa_mirror"
                        " WHERE organization_id = %s AND deleted_at IS NULL", (org,)).fetchall()
    return {rid: (data, recordid) for rid, data, recordid in rows}


def row_versions(conn, org: str) -> dict[str, str]:
    return dict(conn.execute("SELECT id, xmin::text FROM vanguard.pfa_mirror WHERE organization_id = %s", (org,)))


def run_rows(conn, org: str) -> list[tuple]:
    return conn.execute("SELECT kind, status, fetched, inserted, updated, unchanged, deleted, malformed, error"
                        " FROM vanguard.sync_runs WHERE organization_id = %s ORDER BY id", (org,)).fetchall()


@dataclass
class Run:
    result: SyncResult
    problems: list[str]
    before: dict  # PEMS when the run began: id -> (data, recordid)
    after: dict  # PEMS when it ended
    served: Served

    @property
    def touched(self) -> set[str]:
        """Records PEMS changed, added or deleted while the run read."""
        return {rid for rid in set(self.before) | set(self.after) if self.before.get(rid) != self.after.get(rid)}


def synced(db, pems, org: str, client=None, client_timeouts: bool = False, **kw) -> Run:
    """One sync run, checked against PEMS before and after it."""
    with psycopg.connect(db.app, autocommit=True) as conn:
        before, mirror_before = pems.sim.snapshot(org), read_mirror(conn, org)
        malformed = set(pems.sim.faults.malformed_ids.get(org, set()))
        pems.sim.take_served(org)
        result = sync_organization(db.app, client or pems.client(), org, **kw)
        served = pems.sim.take_served(org)
        after = pems.sim.snapshot(org)
        problems = check_run(result, pems_before=before, pems_after=after, mirror_before=mirror_before,
                             mirror_after=read_mirror(conn, org), served=served,
                             malformed=malformed & served.malformed, client_timeouts=client_timeouts)
    return Run(result, problems, before, after, served)


def test_full_sync_of_three_organizations_mirrors_pems_exactly(db, app_conn, sync_pems):
    orgs = ["ORG_A", "ORG_B", "ORG_C"]
    pems = sync_pems(orgs, 8000)
    client = pems.client(page_size=1000)
    for org in orgs:
        add_org(app_conn, org)
        run = synced(db, pems, org, client)
        assert (run.result.status, run.result.kind) == ("succeeded", "full")
        assert run.problems == []
        assert run.result.inserted >= 8000 - run.result.deleted and run.result.updated == 0
    before, mirrored = row_versions(app_conn, "ORG_B"), mirror_of(app_conn, "ORG_B")
    again = synced(db, pems, "ORG_B", client, full=True)
    assert again.problems == []
    after = row_versions(app_conn, "ORG_B")
    rewritten = {rid for rid in after if before.get(rid) != after[rid]}
    # PEMS changed (or deleted) these after the previous run had read them:
    behind = {rid for rid in set(again.before) | set(mirrored) if mirrored.get(rid) != again.before.get(rid)}
    assert rewritten <= again.touched | behind, "a row PEMS did not change was rewritten"
    assert again.result.unchanged >= 8000 - len(again.touched | behind) - again.result.deleted
    assert run_rows(app_conn, "ORG_B")[-1][:2] == ("full", "succeeded")


def test_an_unchanged_organization_is_not_rewritten(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 3000, churn=None)  # counts every record: nothing may change
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    before = row_versions(app_conn, "ORG_A")
    again = sync_organization(db.app, pems.client(), "ORG_A", full=True)
    assert (again.inserted, again.updated, again.unchanged, again.deleted) == (0, 0, 3000, 0)
    assert row_versions(app_conn, "ORG_A") == before, "an unchanged row was rewritten"
    assert run_rows(app_conn, "ORG_A")[-1][:8] == ("full", "succeeded", 3000, 0, 0, 3000, 0, 0)


def test_incremental_run_picks_up_exactly_the_changed_records(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 2000)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    assert synced(db, pems, "ORG_A", client).problems == []
    before = row_versions(app_conn, "ORG_A")
    changed = set(pems.control("change", org="ORG_A", count=20, seed=5)["ids"])
    mirrored = mirror_of(app_conn, "ORG_A")
    run = synced(db, pems, "ORG_A", client)
    assert run.result.kind == "incremental" and run.result.status == "succeeded"
    assert run.problems == []
    assert run.result.deleted == 0 and run.result.updated >= 20
    assert run.result.fetched < 100  # only what changed (plus the overlap), not the organization
    after = row_versions(app_conn, "ORG_A")
    rewritten = {rid for rid in after if after[rid] != before.get(rid)}
    behind = {rid for rid in set(run.before) | set(mirrored) if mirrored.get(rid) != run.before.get(rid)}
    assert changed & set(run.after) <= rewritten <= behind | run.touched


def test_added_and_deleted_records(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 500)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    synced(db, pems, "ORG_A", client)
    user = add_user(app_conn, "alice", {"ORG_A": "editor"})
    add_draft(app_conn, "ORG_A", user, "PFA-0000010", {"area": "Mine"})
    added = pems.control("add", org="ORG_A", count=5)["ids"]
    gone = pems.control("delete", org="ORG_A", ids=["PFA-0000010", "PFA-0000011"])["ids"]
    incremental = synced(db, pems, "ORG_A", client)
    assert incremental.problems == []
    assert incremental.result.inserted >= 5 and incremental.result.deleted == 0  # incremental reads cannot see deletions
    assert set(added) <= set(mirror_of(app_conn, "ORG_A"))
    full = synced(db, pems, "ORG_A", client, full=True)
    assert full.problems == [] and full.result.kind == "full"
    deleted = {r[0] for r in app_conn.execute("SELECT id FROM vanguard.pfa_mirror WHERE deleted_at IS NOT NULL")}
    assert set(gone) <= deleted and not deleted & set(full.after), "only what PEMS no longer has is deleted"
    assert full.result.flagged_drafts == 1
    draft = app_conn.execute("SELECT state, record_deleted FROM vanguard.pfa_draft").fetchone()
    assert draft == ("draft", True), "the draft must be kept and flagged, not dropped"


def test_a_full_sync_while_pems_deletes_marks_only_the_records_pems_deleted(db, app_conn, sync_pems):
    """Paging by offset, a deletion before the cursor shifted live rows out of the read, and the
    deletion pass then marked those live rows deleted."""
    pems = sync_pems(["ORG_A"], 2000, churn=Churn(changes=2, adds=1, deletes=4, seed=21))
    add_org(app_conn, "ORG_A")
    client = pems.client(page_size=100)
    assert synced(db, pems, "ORG_A", client).problems == []
    run = synced(db, pems, "ORG_A", client, full=True)
    assert run.result.status == "succeeded" and run.problems == []
    deleted = {r[0] for r in app_conn.execute("SELECT id FROM vanguard.pfa_mirror WHERE deleted_at IS NOT NULL")}
    assert deleted and not deleted & set(run.after), "a record PEMS still has was marked deleted"
    assert set(run.before) - set(run.after) - set(run.served.ids) <= deleted


def test_an_incremental_run_while_pems_changes_and_deletes_skips_no_changed_record(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 1000, churn=None)
    add_org(app_conn, "ORG_A")
    client = pems.client(page_size=20)
    synced(db, pems, "ORG_A", client)
    pems.control("change", org="ORG_A", count=300, seed=6)
    pems.control("churn", changes=2, deletes=3, seed=9)
    run = synced(db, pems, "ORG_A", client)
    assert run.result.kind == "incremental" and run.problems == []


def test_a_long_incremental_run_loses_no_change(db, app_conn, sync_pems):
    """A run of several simulated minutes (longer than the overlap) while PEMS changes records the
    run has already read: the next run must still get every one of those changes."""
    pems = sync_pems(["ORG_A"], 1000, churn=None)
    add_org(app_conn, "ORG_A")
    client = pems.client(page_size=20)
    synced(db, pems, "ORG_A", client)
    pems.control("change", org="ORG_A", count=300, seed=7)
    began = pems.sim.clock()
    pems.control("churn", changes=3, seconds=20, seed=3)  # every page: 20 s pass, 3 records change
    long_run = synced(db, pems, "ORG_A", client)  # the default overlap: one minute
    pems.control("churn")
    assert long_run.problems == []
    assert pems.sim.clock() - began > timedelta(minutes=5)
    assert began <= long_run.result.watermark_to <= began + timedelta(seconds=21), \
        "the watermark is PEMS's clock when the run began"
    pems.control("clock", advance_seconds=30)
    assert synced(db, pems, "ORG_A", client).problems == []
    assert mirror_of(app_conn, "ORG_A") == pems.sim.snapshot("ORG_A")


def test_the_overlap_is_configurable(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 300, churn=None)  # counts the rows re-read
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    pems.control("change", org="ORG_A", count=10, seed=2)
    pems.control("clock", advance_seconds=100)
    assert sync_organization(db.app, pems.client(), "ORG_A").updated == 10
    pems.control("clock", advance_seconds=100)
    assert sync_organization(db.app, pems.client(), "ORG_A", overlap_seconds=0).fetched == 0
    wide = sync_organization(db.app, pems.client(), "ORG_A", overlap_seconds=400)
    assert (wide.fetched, wide.unchanged, wide.updated) == (10, 10, 0), "re-read within the overlap, not rewritten"


def test_a_record_missing_from_the_paged_read_is_read_by_id_before_it_is_marked_deleted(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 400, churn=None)  # names exactly which records are missing
    add_org(app_conn, "ORG_A")
    client = pems.client()
    sync_organization(db.app, client, "ORG_A")
    pems.control("faults", hidden={"ORG_A": ["PFA-0000005", "PFA-0000006"]})
    client.update_record("ORG_A", "PFA-0000005", 1, {"area": "Moved meanwhile"}, "another-user-1")
    pems.control("delete", org="ORG_A", ids=["PFA-0000007"])
    run = synced(db, pems, "ORG_A", client, full=True)
    assert run.problems == []
    assert (run.result.deleted, run.result.confirmed_present, run.result.updated) == (1, 2, 1)
    mirror = mirror_of(app_conn, "ORG_A")
    assert "PFA-0000006" in mirror and "PFA-0000007" not in mirror
    assert mirror["PFA-0000005"] == pems.sim.snapshot("ORG_A")["PFA-0000005"]
    assert mirror["PFA-0000005"][0]["area"] == "Moved meanwhile"
    detail = app_conn.execute("SELECT deleted, detail FROM vanguard.sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert detail[0] == 1 and detail[1]["confirmed_present"] == 2


def test_counts_are_exact_when_a_record_appears_on_two_pages(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 1000, churn=None)
    add_org(app_conn, "ORG_A")
    client = pems.client(page_size=40)
    synced(db, pems, "ORG_A", client)
    pems.control("change", org="ORG_A", count=300, seed=4)
    pems.control("churn", changes=25, seed=12)  # records already read change again and come back
    run = synced(db, pems, "ORG_A", client)
    result = run.result
    assert result.fetched > result.inserted + result.updated + result.unchanged, "no record came twice"
    assert run.problems == []  # includes: updated == records whose mirror row changed, each once
    runs = run_rows(app_conn, "ORG_A")[-1]
    assert runs[2:6] == (result.fetched, result.inserted, result.updated, result.unchanged)


def test_a_full_run_that_would_delete_most_records_fails_instead(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 200)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    checksum = app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone()
    pems.control("delete", org="ORG_A", ids=[f"PFA-{i:07d}" for i in range(1, 181)])
    result = sync_organization(db.app, client, "ORG_A", full=True)
    assert result.status == "failed" and "not marking more than 50% deleted" in result.error
    assert app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone() == checksum


@pytest.mark.parametrize("attempts", [8, 1])
def test_failing_pems_either_completes_through_retries_or_changes_nothing(db, app_conn, sync_pems, attempts):
    pems = sync_pems(["ORG_A"], 3000)
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    pems.control("change", org="ORG_A", count=300, seed=2)
    pems.control("faults", error_rate=0.1, timeout_rate=0.1, timeout_seconds=1.0, seed=11)
    checksum = app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone()
    client = pems.client(timeout_seconds=0.3, max_attempts=attempts, page_size=100)
    run = synced(db, pems, "ORG_A", client, client_timeouts=True, full=True)
    # The fault sequence is seeded: with 8 attempts per request it completes, with 1 it cannot.
    assert run.result.status == ("succeeded" if attempts > 1 else "failed")
    assert run.problems == []
    if run.result.status == "succeeded":
        assert run.result.updated >= 300
        assert client.answers_lost > 0  # the pages that timed out on the client, read again
    else:
        assert "PEMS" in run.result.error
        assert app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone() == checksum
        assert run_rows(app_conn, "ORG_A")[-1][1] == "failed"


def test_malformed_rows_are_counted_named_and_skipped(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 1000)
    add_org(app_conn, "ORG_A")
    bad = pems.control("faults", malformed={"ORG_A": 0.02}, seed=3)["malformed"]["ORG_A"]
    run = synced(db, pems, "ORG_A")
    result = run.result
    assert result.status == "succeeded" and run.problems == []
    assert result.malformed == len(run.served.malformed) and set(run.served.malformed) <= set(bad)
    assert len(bad) - result.malformed <= 3 * len(run.touched)  # only deleted ones go unsent
    detail = app_conn.execute("SELECT malformed, detail FROM vanguard.sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert detail[0] == result.malformed
    assert sorted(r["record_id"] for r in detail[1]["malformed_rows"]) == sorted(run.served.malformed)
    assert all("cannot be read" in r["error"] for r in detail[1]["malformed_rows"])
    assert not set(bad) & set(mirror_of(app_conn, "ORG_A"))


def test_a_record_that_turns_malformed_is_kept_not_deleted(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 300)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    before = mirror_of(app_conn, "ORG_A")
    bad = pems.control("faults", malformed={"ORG_A": 0.05}, seed=4)["malformed"]["ORG_A"]
    run = synced(db, pems, "ORG_A", client, full=True)
    assert run.result.status == "succeeded" and run.problems == []
    mirror = mirror_of(app_conn, "ORG_A")
    kept = [rid for rid in bad if rid in run.after]
    assert kept and all(mirror[rid] == before[rid] for rid in kept)


def test_a_row_pems_could_not_render_is_read_again_by_the_next_incremental_run(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 300, churn=None)  # names which rows are unreadable
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    early = pems.sim.change_records("ORG_A", 5, seed=1)
    early_stamp = min(pems.sim.orgs["ORG_A"][rid].modified for rid in early)
    pems.control("clock", advance_seconds=900)
    pems.sim.change_records("ORG_A", 5, seed=2)
    pems.sim.faults.malformed_ids["ORG_A"] = set(early)
    first = sync_organization(db.app, pems.client(), "ORG_A")
    assert (first.malformed, first.watermark_to) == (5, early_stamp), "the watermark waits for the unread rows"
    pems.sim.faults.malformed_ids["ORG_A"] = set()
    pems.control("clock", advance_seconds=900)
    second = sync_organization(db.app, pems.client(), "ORG_A")
    assert second.updated == 5 and mirror_of(app_conn, "ORG_A") == pems.sim.snapshot("ORG_A")


def test_a_version_that_stays_unreadable_holds_the_watermark_back_once(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 300, churn=None)  # names which rows are unreadable
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    stuck = pems.sim.change_records("ORG_A", 3, seed=3)
    stamp = min(pems.sim.orgs["ORG_A"][rid].modified for rid in stuck)
    pems.sim.faults.malformed_ids["ORG_A"] = set(stuck)
    pems.control("clock", advance_seconds=900)
    assert sync_organization(db.app, pems.client(), "ORG_A").watermark_to == stamp
    pems.control("clock", advance_seconds=900)
    again = sync_organization(db.app, pems.client(), "ORG_A")
    assert again.malformed == 3, "read once more"
    assert again.watermark_to >= stamp + timedelta(minutes=30), "then left to the next full run"


def test_without_a_date_header_the_watermark_is_the_local_clock_at_the_start(db, app_conn):
    from store.pems.background import BackgroundServer
    from store.pems.client import PemsClient, PemsSettings
    from store.pems.simulator import PemsSimulator

    sim = PemsSimulator(["ORG_A"], 50)
    sim.clock_offset = timedelta(0)
    app = sim.app()

    async def without_date(scope, receive, send):  # a server that sends no Date at all
        async def strip(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [h for h in message["headers"] if h[0] != b"date"]}
            await send(message)
        await app(scope, receive, strip)

    add_org(app_conn, "ORG_A")
    with BackgroundServer(without_date, date_header=False) as url:
        began = datetime.now(timezone.utc).replace(microsecond=0)
        result = sync_organization(db.app, PemsClient(PemsSettings(url, api_key=sim.api_key)), "ORG_A")
    assert result.status == "succeeded" and began <= result.watermark_to <= began + timedelta(seconds=2)


def test_a_second_concurrent_run_is_skipped_and_logged(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 100)
    add_org(app_conn, "ORG_A")
    with psycopg.connect(db.app, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('vanguard.sync:ORG_A', 0))")
        result = sync_organization(db.app, pems.client(), "ORG_A")
    assert result.status == "skipped" and "another sync" in result.error
    assert run_rows(app_conn, "ORG_A")[-1][1] == "skipped"
    assert mirror_of(app_conn, "ORG_A") == {}
    assert sync_organization(db.app, pems.client(), "ORG_A").status == "succeeded"


def test_two_threads_syncing_one_organization_never_both_run(db, app_conn, sync_pems):
    import threading
    pems = sync_pems(["ORG_A"], 400, churn=None)  # counts the records
    add_org(app_conn, "ORG_A")
    pems.control("faults", latency_ms=50)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        sync_organization(db.app, pems.client(page_size=50), "ORG_A"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == ["skipped", "succeeded"]
    assert len(mirror_of(app_conn, "ORG_A")) == 400


def test_kpis_follow_a_sync_that_changed_something(db, app_conn, sync_pems):
    pems = sync_pems(["ORG_A"], 300)
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    kpi = "SELECT sum(records), sum(forecast_cost) FROM vanguard.kpi_category_source WHERE organization_id = 'ORG_A'"
    direct = "SELECT count(*), sum(forecast_cost) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"
    assert app_conn.execute(kpi).fetchone() == app_conn.execute(direct).fetchone()
    pems.control("change", org="ORG_A", count=30, seed=9)
    sync_organization(db.app, pems.client(), "ORG_A")
    assert app_conn.execute(kpi).fetchone() == app_conn.execute(direct).fetchone()
