"""Bulk plans that fail in any way end with one `error` event and exactly one audit row; nothing is
saved and no exception escapes the stream. The plans are scripted on the fake OpenAI-compatible
server, so they reach the service exactly as a model's answer would."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from tests.api_fixtures import PASSWORD, seed
from tests.fake_llm import Scripted
from tests.test_bulk import parse, plan

AREA = [{"field": "area", "op": "set", "value": "Yard 9"}]


@pytest.fixture
async def bulk_client(db, fake_llm):
    seed(db.app, records=200)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="t", bulk_max_records=500), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = (await client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield client


async def run(client, reply: Scripted | str | list) -> list[tuple[str, dict]]:
    client.fake_llm.answer(*(reply if isinstance(reply, list) else [reply]))
    response = await client.post("/api/ai/bulk", json={"org_id": "ORG_A", "request": "do it"})
    assert response.status_code == 200, response.text
    return parse(response.text)


def audit_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT kind, verdict, error_code FROM vanguard.nlq_audit ORDER BY id").fetchall()


def nothing_saved(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return (conn.execute("SELECT count(*) FROM vanguard.change_sets").fetchone()[0] == 0
                and conn.execute("SELECT count(*) FROM vanguard.pfa_draft").fetchone()[0] == 0)


FAILURES = {
    # targets that select something other than the records' ids
    "a non-id column": (plan("SELECT class FROM pfa_merged", AREA), "rejected", "target_not_ids"),
    "another column renamed id in a derived table": (
        plan("SELECT id FROM (SELECT class AS id FROM pfa_merged) AS s", AREA), "rejected", "target_not_ids"),
    "another column renamed id in a CTE": (
        plan("WITH t AS (SELECT category AS id FROM pfa_merged) SELECT id FROM t", AREA), "rejected", "target_not_ids"),
    "null ids": (plan("SELECT id FROM (SELECT NULL AS id FROM pfa_merged) AS s", AREA), "rejected", "target_not_ids"),
    # targets the guardrails refuse
    "a system catalog": (plan("SELECT oid AS id FROM pg_class", AREA), "rejected", "system_catalog"),
    "another organization": (plan("SELECT id FROM pfa_merged WHERE organization_id = 'ORG_B'", AREA),
                             "rejected", "cross_organization"),
    "stacked statements": (plan("SELECT id FROM pfa_merged; DELETE FROM pfa_merged", AREA), "rejected",
                           "multiple_statements"),
    # changes that cannot be applied
    "an unknown field": (plan("SELECT id FROM pfa_merged", [{"field": "colour", "op": "set", "value": "red"}]),
                         "rejected", "unknown_field"),
    "a read-only field": (plan("SELECT id FROM pfa_merged", [{"field": "pfaId", "op": "set", "value": "X"}]),
                          "rejected", "read_only_field"),
    "a nested value": (plan("SELECT id FROM pfa_merged", [{"field": "area", "op": "set", "value": {"a": [1]}}]),
                       "rejected", "type"),
    # plans that are not plans
    "prose": ("Sure! I would extend them all.", "rejected", "malformed_plan"),
    "a JSON list": ("[1, 2, 3]", "rejected", "malformed_plan"),
    "JSON null": ("null", "rejected", "malformed_plan"),
    "an empty answer": ("", "rejected", "malformed_plan"),
    "deeply nested JSON": ("[" * 100_000 + "]" * 100_000, "rejected", "malformed_plan"),
    "a target of the wrong type": (json.dumps({"target": 5, "changes": AREA}), "rejected", "malformed_plan"),
    "a NUL in the explanation": (json.dumps({"target": "SELECT id FROM pfa_merged", "changes": AREA,
                                             "explanation": "ok\u0000"}), "rejected", "malformed_plan"),
    "a NUL and a lone surrogate in the raw answer": ('{"target": "SELECT id FROM pfa_merged"}\x00\ud800',
                                                     "rejected", "malformed_plan"),
    # the database refuses the target while it runs
    "a division by zero": (plan("SELECT id FROM pfa_merged WHERE monthly_rate / (monthly_rate - monthly_rate) > 0",
                                AREA), "error", None),
    "a bad cast": (plan("SELECT id FROM pfa_merged WHERE CAST(class AS INT) > 0", AREA), "error", None),
    # the model is down
    "the model endpoint failing": ([Scripted(status=500)] * 3, "error", None),  # the client retries twice
}


@pytest.mark.parametrize("name", list(FAILURES))
async def test_a_failing_plan_ends_with_one_error_event_and_one_audit_row(db, bulk_client, fake_llm, name):
    reply, verdict, reason = FAILURES[name]
    bulk_client.fake_llm = fake_llm
    events = await run(bulk_client, reply)
    assert [n for n, _ in events].count("error") == 1 and events[-1][0] == "error", events
    error = events[-1][1]
    assert error["code"] and error["message"] and isinstance(error["audit_id"], int)
    if reason:
        assert any(r.startswith(reason) for r in error["reasons"]), error
    rows = audit_rows(db.app)
    assert len(rows) == 1 and rows[0][:2] == ("bulk", verdict), rows
    assert rows[0][2] == error["code"]
    assert nothing_saved(db.app)


async def test_a_join_that_repeats_records_proposes_each_record_once(db, bulk_client, fake_llm):
    """A target whose join returns a record many times is read as the set of its records."""
    bulk_client.fake_llm = fake_llm
    target = "SELECT p.id FROM pfa_merged AS p JOIN pfa_merged AS q ON q.category = p.category WHERE p.category = 'Concrete'"
    events = await run(bulk_client, plan(target, AREA))
    assert events[-1][0] == "done", events
    summary = dict(events)["summary"]
    with psycopg.connect(db.app) as conn:
        concrete = conn.execute("SELECT count(*) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' "
                                "AND category = 'Concrete'").fetchone()[0]
        drafts = conn.execute("SELECT count(*), count(DISTINCT record_id) FROM vanguard.pfa_draft").fetchone()
    assert concrete > 1 and summary["matched"] == summary["proposed"] == concrete
    assert drafts == (concrete, concrete)
    assert len(audit_rows(db.app)) == 1


async def test_a_record_whose_stored_value_cannot_be_shifted_is_skipped_with_the_reason(db, bulk_client, fake_llm):
    """PEMS data that is not a date (kept as sent in the JSON) skips that record, never breaks the proposal."""
    bulk_client.fake_llm = fake_llm
    with psycopg.connect(db.app, autocommit=True) as conn:
        broken = conn.execute("SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND category = 'Concrete' "
                              "ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"forecastEnd\": \"31/12/2026\"}' "
                     "WHERE organization_id = 'ORG_A' AND id = %s", (broken,))
    changes = [{"field": "forecastEnd", "op": "shift_days", "value": 7}]
    events = await run(bulk_client, plan("SELECT id FROM pfa_merged WHERE category = 'Concrete'", changes))
    assert events[-1][0] == "done", events
    skipped = dict(events)["summary"]["skipped"]
    assert [(s["record_id"], s["field"]) for s in skipped] == [(broken, "forecastEnd")]
    assert audit_rows(db.app) == [("bulk", "allowed", None)]


async def test_a_database_failure_while_saving_is_an_error_event_and_one_audit_row(db, bulk_client, fake_llm):
    """The app role loses INSERT on change sets (in this test's own database): the save fails in PostgreSQL."""
    bulk_client.fake_llm = fake_llm
    with psycopg.connect(db.admin, autocommit=True) as conn:
        conn.execute("REVOKE INSERT ON vanguard.change_sets FROM vanguard_app")
    events = await run(bulk_client, plan("SELECT id FROM pfa_merged WHERE category = 'Concrete'", AREA))
    assert [n for n, _ in events][-1] == "error", events
    error = events[-1][1]
    assert error["code"] == "db_error" and "permission" not in error["message"]  # no database text
    assert audit_rows(db.app) == [("bulk", "error", "db_error")]
    assert nothing_saved(db.app)
