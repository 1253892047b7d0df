"""The write-back fault campaign, small: every fault kind, workers killed mid-delivery and taken
over, two workers at once; no draft ends wrong and the mirror never goes back a version."""

from __future__ import annotations

from nlq.bench.faults_writes import run_write_campaign


def test_write_back_holds_under_the_seeded_fault_campaign(db):
    report = run_write_campaign(db.app, drafts=24, rounds=3, seed=11)
    assert report.mismatches == [], "\n".join(report.lines())
    assert report.drafts == 24 and sum(report.outcomes.values()) == 24
    assert set(report.outcomes) <= {"synced", "conflict", "sync_error"} and report.outcomes["synced"] >= 12
    assert {"5xx", "lost_answer", "busy_on_replay", "answer_after_timeout"} <= set(report.faults), report.faults
    assert report.kills >= 1 and report.worker_processes >= 5
