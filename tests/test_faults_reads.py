"""The read fault campaign (`nlq/bench/faults_reads.py`) with small numbers: many sync runs while
PEMS changes, adds and deletes between pages, under every read fault kind; each run checked."""

from __future__ import annotations

from nlq.bench.faults_reads import FAULT_KINDS, ORG, CampaignConfig, run_campaign


def test_many_runs_under_churn_and_every_read_fault_leave_no_mismatch(db, pems_factory):
    pems = pems_factory([ORG], 600)
    totals = run_campaign(db.app, pems.sim, pems.url, CampaignConfig(runs=40, records=600, page_size=60, seed=3))
    assert totals.mismatches == [], "\n".join(totals.mismatches[:20])
    assert totals.runs == 42 and totals.full >= 8 and totals.incremental >= 15
    assert totals.succeeded >= 20 and totals.failed >= 3, totals.summary()
    assert all(totals.faults[kind] > 0 for kind in FAULT_KINDS), totals.summary()
    assert all(totals.churn[kind] > 0 for kind in ("changes", "adds", "deletes")), totals.summary()
    assert totals.longer_than_overlap >= 5, totals.summary()
