"""Bulk-edit suggestions: proposals as reviewable change sets, accepted, rejected, committed; refusals."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from store.sync.worker import sync_organization
from store.sync.writeback import deliver_outbox
from tests.api_fixtures import PASSWORD, seed


def parse(text: str) -> list[tuple[str, dict]]:
    found, name = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            found.append((name, json.loads(line.split(":", 1)[1].strip())))
    return found


async def propose(api, user: str, request: str) -> list[tuple[str, dict]]:
    response = await api.post(user, "/api/ai/bulk", {"org_id": "ORG_A", "request": request})
    assert response.status_code == 200, response.text
    return parse(response.text)


def mirror_rows(urls, where: str = "TRUE") -> dict[str, dict]:
    with psycopg.connect(urls.app) as conn:
        return dict(conn.execute(f"SELECT id, data FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND {where}"))


async def merged(api, user: str, record_id: str) -> dict:
    return (await api.get(user, f"/api/pfa/ORG_A/records/{record_id}")).json()


async def test_extend_all_concrete_by_two_weeks_end_to_end(api, pems_factory):
    concrete = mirror_rows(api.urls, "category = 'Concrete'")
    assert concrete
    events = await propose(api, "editor_a", "extend all concrete equipment by 2 weeks")
    assert [n for n, _ in events][-2:] == ["summary", "done"]
    plan = dict(events)["plan"]
    assert plan["changes"] == [{"field": "forecastEnd", "op": "shift_days", "value": 14}]
    summary = dict(events)["summary"]
    assert (summary["matched"], summary["proposed"], summary["skipped"]) == (len(concrete), len(concrete), [])
    for item in summary["preview"]:
        before = concrete[item["record_id"]]["forecastEnd"]
        assert item["after"] == {"forecastEnd": (date.fromisoformat(before) + timedelta(days=14)).isoformat()}
    change_set = summary["change_set_id"]
    rid = sorted(concrete)[0]
    assert (await merged(api, "editor_a", rid))["forecast_end"] == concrete[rid]["forecastEnd"]  # proposed: not merged

    detail = (await api.get("editor_a", f"/api/pfa/ORG_A/change-sets/{change_set}")).json()
    assert len(detail["items"]) == len(concrete) and detail["items"][0]["fields"][0]["field"] == "forecastEnd"
    accepted = (await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{change_set}/accept", None)).json()
    assert sorted(accepted["accepted"]) == sorted(concrete) and accepted["skipped"] == []
    after = await merged(api, "editor_a", rid)
    assert after["forecast_end"] == (date.fromisoformat(concrete[rid]["forecastEnd"]) + timedelta(days=14)).isoformat()
    assert after["has_draft"] is True

    pems = pems_factory(["ORG_A"], 200)  # the same demo records as the database's ORG_A
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = 'ORG_A'")
    committed = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {"change_set_id": change_set})).json()
    assert len(committed["committed"]) == len(concrete) and committed["conflicts"] == []
    assert deliver_outbox(api.urls.app, pems.client(), limit=500).synced == len(concrete)
    assert pems.sim.snapshot("ORG_A")[rid][0]["forecastEnd"] == after["forecast_end"]
    sync_organization(api.urls.app, pems.client(), "ORG_A", full=True)
    assert mirror_rows(api.urls, f"id = '{rid}'")[rid]["forecastEnd"] == after["forecast_end"]


async def test_reject_leaves_no_trace(api):
    before = (await api.get("editor_a", "/api/pfa/ORG_A?has_draft=true")).json()["items"]
    summary = dict(await propose(api, "editor_a", "cut crane rates by 5%"))["summary"]
    assert summary["proposed"] > 0
    rejected = (await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{summary['change_set_id']}/reject", None)).json()
    assert len(rejected["rejected"]) == summary["proposed"]
    assert (await api.get("editor_a", "/api/pfa/ORG_A?has_draft=true")).json()["items"] == before == []
    assert (await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{summary['change_set_id']}/accept", None)).json()["accepted"] == []


async def test_accepting_onto_an_existing_draft_keeps_both_changes(api):
    rid = sorted(mirror_rows(api.urls, "category = 'Concrete'"))[0]
    await api.post("editor_a", "/api/pfa/ORG_A/drafts", {"record_id": rid, "changes": {"area": "My Area"}})
    summary = dict(await propose(api, "editor_a", "extend all concrete equipment by 3 days"))["summary"]
    accepted = (await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{summary['change_set_id']}/accept",
                               {"record_ids": [rid]})).json()
    assert accepted["merged"] == [rid]
    record = await merged(api, "editor_a", rid)
    assert record["area"] == "My Area"
    assert record["draft"]["delta"].keys() == {"area", "forecastEnd"}


async def test_rules_skip_records_with_the_reason(api):
    summary = dict(await propose(api, "editor_a", "switch all rentals to purchase"))["summary"]
    assert summary["proposed"] == 0 and summary["change_set_id"] is None
    assert summary["skipped"] and {s["rule"] for s in summary["skipped"]} <= {"purchase_needs_price", "locked_when_actualized"}


async def test_two_users_proposals_stay_separate(api):
    a = dict(await propose(api, "editor_a", "extend all concrete equipment by 2 weeks"))["summary"]
    b = dict(await propose(api, "admin_a", "extend all concrete equipment by 1 weeks"))["summary"]
    assert a["change_set_id"] != b["change_set_id"]
    await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{a['change_set_id']}/accept", None)
    rid = a["preview"][0]["record_id"]
    assert (await merged(api, "editor_a", rid))["has_draft"] is True
    assert (await merged(api, "admin_a", rid))["has_draft"] is False
    assert (await api.get("admin_a", f"/api/pfa/ORG_A/change-sets/{a['change_set_id']}")).status_code == 404
    assert [c["id"] for c in (await api.get("admin_a", "/api/pfa/ORG_A/change-sets")).json()["items"]] == [b["change_set_id"]]


async def test_viewers_cannot_propose_and_bad_bodies_are_422(api):
    assert (await api.post("viewer_a", "/api/ai/bulk", {"org_id": "ORG_A", "request": "extend all by 1 day"})).status_code == 403
    assert (await api.post("editor_b", "/api/ai/bulk", {"org_id": "ORG_A", "request": "extend all by 1 day"})).status_code == 403
    for body in ({"org_id": "ORG_A"}, {"org_id": "ORG_A", "request": ""}, {"org_id": "ORG_A", "request": "x", "y": 1}):
        assert (await api.post("editor_a", "/api/ai/bulk", body)).status_code == 422


async def test_the_offline_planner_refuses_what_it_cannot_read(api):
    events = await propose(api, "editor_a", "make everything better")
    assert events[-1][0] == "error" and events[-1][1]["code"] == "not_understood"
    events = await propose(api, "editor_a", "delay all cranes painted red by 2 weeks")
    assert events[-1][1]["code"] == "not_understood" and "'painted', 'red'" in events[-1][1]["message"]
    events = await propose(api, "editor_a", "extend by 2 weeks")  # no filter and no "all": too broad
    assert "target_too_broad" in events[-1][1]["reasons"][0]


@pytest.fixture
async def llm_api(db, fake_llm):
    seed(db.app, records=200)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="t", bulk_max_records=50), db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            token = (await client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield client


def plan(target: str, changes: list[dict]) -> str:
    return json.dumps({"target": target, "changes": changes, "explanation": "x"})


REFUSALS = [
    (plan("SELECT id, area FROM pfa_merged", [{"field": "area", "op": "set", "value": "X"}]), "target_not_ids"),
    (plan("SELECT id FROM pfa_merged WHERE organization_id = 'ORG_B'", [{"field": "area", "op": "set", "value": "X"}]),
     "cross_organization"),
    (plan("SELECT id FROM pfa_merged", [{"field": "actualStart", "op": "set", "value": "2020-01-01"}]), "read_only_field"),
    (plan("SELECT id FROM pfa_merged", [{"field": "area", "op": "shift_days", "value": 3}]), "op_not_allowed"),
    (plan("SELECT id FROM pfa_merged", [{"field": "forecastEnd", "op": "shift_days", "value": "two"}]), "type"),
    (plan("SELECT id FROM pfa_merged", [{"field": "monthlyRate", "op": "scale_pct", "value": True}]), "type"),
    (plan("SELECT id FROM pfa_merged", [{"field": "colour", "op": "set", "value": "red"}]), "unknown_field"),
    (plan("SELECT id FROM pfa_merged", [{"field": "source", "op": "set", "value": "Lease"}]), "allowed_values"),
    (plan("DELETE FROM pfa_merged", [{"field": "area", "op": "set", "value": "X"}]), "not_a_query"),
    ("this is not json", "malformed_plan"),
    ('{"target": "SELECT id FROM pfa_merged"}', "malformed_plan"),
    ('{"target": "SELECT id FROM pfa_merged", "changes": [], "explanation": ""}', "malformed_plan"),
]


@pytest.mark.parametrize("reply, reason", REFUSALS)
async def test_bad_plans_are_refused_with_reasons_and_nothing_saved(db, llm_api, fake_llm, reply, reason):
    fake_llm.answer(reply)
    events = parse((await llm_api.post("/api/ai/bulk", json={"org_id": "ORG_A", "request": "do it"})).text)
    assert events[-1][0] == "error", events
    assert any(r.startswith(reason) for r in events[-1][1]["reasons"]), events[-1][1]
    with psycopg.connect(db.app) as conn:
        assert conn.execute("SELECT count(*) FROM vanguard.change_sets").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft").fetchone() == (0,)
        assert conn.execute("SELECT kind, verdict FROM vanguard.nlq_audit").fetchall() == [("bulk", "rejected")]


async def test_a_plan_over_the_cap_is_refused_with_the_count(db, llm_api, fake_llm):
    fake_llm.answer(plan("SELECT id FROM pfa_merged", [{"field": "area", "op": "set", "value": "X"}]))
    events = parse((await llm_api.post("/api/ai/bulk", json={"org_id": "ORG_A", "request": "everything"})).text)
    error = events[-1][1]
    assert error["code"] == "over_cap" and error["matched"] == 200 and "200 records" in error["message"]
    with psycopg.connect(db.app) as conn:
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft").fetchone() == (0,)
