"""Sync runs against the simulator over HTTP and a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from store.sync.worker import sync_organization
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


def test_full_sync_of_three_organizations_mirrors_pems_exactly(db, app_conn, pems_factory):
    orgs = ["ORG_A", "ORG_B", "ORG_C"]
    pems = pems_factory(orgs, 20_000)
    client = pems.client(page_size=5000)
    for org in orgs:
        add_org(app_conn, org)
        result = sync_organization(db.app, client, org)
        assert (result.status, result.kind) == ("succeeded", "full")
        assert (result.fetched, result.inserted, result.updated, result.unchanged, result.deleted,
                result.malformed) == (20_000, 20_000, 0, 0, 0, 0)
        assert mirror_of(app_conn, org) == pems.sim.snapshot(org)
    before = row_versions(app_conn, "ORG_B")
    again = sync_organization(db.app, client, "ORG_B", full=True)
    assert (again.inserted, again.updated, again.unchanged, again.deleted) == (0, 0, 20_000, 0)
    assert row_versions(app_conn, "ORG_B") == before, "an unchanged row was rewritten"
    assert run_rows(app_conn, "ORG_B")[-1][:8] == ("full", "succeeded", 20_000, 0, 0, 20_000, 0, 0)


def test_incremental_run_picks_up_exactly_the_changed_records(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 2000)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    before = row_versions(app_conn, "ORG_A")
    changed = set(pems.control("change", org="ORG_A", count=20, seed=5)["ids"])
    result = sync_organization(db.app, client, "ORG_A")
    assert result.kind == "incremental" and result.status == "succeeded"
    assert (result.inserted, result.updated, result.deleted) == (0, 20, 0)
    assert result.fetched < 100  # only what changed (plus the overlap minute), not the organization
    after = row_versions(app_conn, "ORG_A")
    assert {rid for rid in after if after[rid] != before[rid]} == changed
    assert mirror_of(app_conn, "ORG_A") == pems.sim.snapshot("ORG_A")


def test_added_and_deleted_records(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 500)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    user = add_user(app_conn, "alice", {"ORG_A": "editor"})
    add_draft(app_conn, "ORG_A", user, "PFA-0000010", {"area": "Mine"})
    added = pems.control("add", org="ORG_A", count=5)["ids"]
    gone = pems.control("delete", org="ORG_A", ids=["PFA-0000010", "PFA-0000011"])["ids"]
    incremental = sync_organization(db.app, client, "ORG_A")
    assert (incremental.inserted, incremental.deleted) == (5, 0)  # incremental reads cannot see deletions
    full = sync_organization(db.app, client, "ORG_A", full=True)
    assert (full.kind, full.inserted, full.updated, full.deleted, full.flagged_drafts) == ("full", 0, 0, 2, 1)
    assert mirror_of(app_conn, "ORG_A") == pems.sim.snapshot("ORG_A")
    assert set(added) <= set(mirror_of(app_conn, "ORG_A"))
    deleted = app_conn.execute("SELECT id FROM vanguard.pfa_mirror WHERE deleted_at IS NOT NULL ORDER BY id").fetchall()
    assert [r[0] for r in deleted] == sorted(gone)
    draft = app_conn.execute("SELECT state, record_deleted FROM vanguard.pfa_draft").fetchone()
    assert draft == ("draft", True), "the draft must be kept and flagged, not dropped"


def test_a_full_run_that_would_delete_most_records_fails_instead(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 200)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    checksum = app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone()
    pems.control("delete", org="ORG_A", ids=[f"PFA-{i:07d}" for i in range(1, 181)])
    result = sync_organization(db.app, client, "ORG_A", full=True)
    assert result.status == "failed" and "not marking more than 50% deleted" in result.error
    assert app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone() == checksum


@pytest.mark.parametrize("attempts", [8, 1])
def test_failing_pems_either_completes_through_retries_or_changes_nothing(db, app_conn, pems_factory, attempts):
    pems = pems_factory(["ORG_A"], 3000)
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    pems.control("change", org="ORG_A", count=300, seed=2)
    pems.control("faults", error_rate=0.1, timeout_rate=0.1, timeout_seconds=1.0, seed=11)
    checksum = app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone()
    client = pems.client(timeout_seconds=0.3, max_attempts=attempts, page_size=100)
    result = sync_organization(db.app, client, "ORG_A", full=True)
    # The fault sequence is seeded: with 8 attempts per request it completes, with 1 it cannot.
    assert result.status == ("succeeded" if attempts > 1 else "failed")
    if result.status == "succeeded":
        assert result.updated == 300
        assert mirror_of(app_conn, "ORG_A") == pems.sim.snapshot("ORG_A")
    else:
        assert result.status == "failed" and "PEMS" in result.error
        assert app_conn.execute(CHECKSUM, ("ORG_A",)).fetchone() == checksum
        assert run_rows(app_conn, "ORG_A")[-1][1] == "failed"


def test_malformed_rows_are_counted_named_and_skipped(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 1000)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    bad = pems.control("faults", malformed={"ORG_A": 0.02}, seed=3)["malformed"]["ORG_A"]
    result = sync_organization(db.app, client, "ORG_A")
    assert result.status == "succeeded"
    assert (result.fetched, result.malformed, result.inserted) == (1000, len(bad), 1000 - len(bad))
    detail = app_conn.execute("SELECT malformed, detail FROM vanguard.sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert detail[0] == len(bad)
    assert sorted(r["record_id"] for r in detail[1]["malformed_rows"]) == sorted(bad)
    assert all("cannot be read" in r["error"] for r in detail[1]["malformed_rows"])
    assert not set(bad) & set(mirror_of(app_conn, "ORG_A"))


def test_a_record_that_turns_malformed_is_kept_not_deleted(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 300)
    client = pems.client()
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, client, "ORG_A")
    before = mirror_of(app_conn, "ORG_A")
    bad = pems.control("faults", malformed={"ORG_A": 0.05}, seed=4)["malformed"]["ORG_A"]
    result = sync_organization(db.app, client, "ORG_A", full=True)
    assert (result.status, result.malformed, result.deleted) == ("succeeded", len(bad), 0)
    assert mirror_of(app_conn, "ORG_A") == before


def test_a_second_concurrent_run_is_skipped_and_logged(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 100)
    add_org(app_conn, "ORG_A")
    with psycopg.connect(db.app, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('vanguard.sync:ORG_A', 0))")
        result = sync_organization(db.app, pems.client(), "ORG_A")
    assert result.status == "skipped" and "another sync" in result.error
    assert run_rows(app_conn, "ORG_A")[-1][1] == "skipped"
    assert mirror_of(app_conn, "ORG_A") == {}
    assert sync_organization(db.app, pems.client(), "ORG_A").status == "succeeded"


def test_two_threads_syncing_one_organization_never_both_run(db, app_conn, pems_factory):
    import threading
    pems = pems_factory(["ORG_A"], 400)
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


def test_kpis_follow_a_sync_that_changed_something(db, app_conn, pems_factory):
    pems = pems_factory(["ORG_A"], 300)
    add_org(app_conn, "ORG_A")
    sync_organization(db.app, pems.client(), "ORG_A")
    kpi = "SELECT sum(records), sum(forecast_cost) FROM vanguard.kpi_category_source WHERE organization_id = 'ORG_A'"
    direct = "SELECT count(*), sum(forecast_cost) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"
    assert app_conn.execute(kpi).fetchone() == app_conn.execute(direct).fetchone()
    pems.control("change", org="ORG_A", count=30, seed=9)
    sync_organization(db.app, pems.client(), "ORG_A")
    assert app_conn.execute(kpi).fetchone() == app_conn.execute(direct).fetchone()
