"""The admin audit API: list and filter, one entry, counts, exports, and chain verification."""

from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest



async def ask(api, user: str, question: str) -> None:
    response = await api.post(user, "/api/ai/query", {"org_id": "ORG_A", "question": question})
    assert response.status_code == 200


@pytest.fixture
async def audited(api):
    await ask(api, "editor_a", "how many cranes are rented?")
    await ask(api, "viewer_a", "total forecast cost by area")
    await ask(api, "editor_a", "what is the meaning of life")
    return api


async def test_admins_list_and_filter_entries(audited):
    api = audited
    items = (await api.get("admin_a", "/api/pfa/ORG_A/audit")).json()["items"]
    assert [i["question"] for i in items] == ["what is the meaning of life", "total forecast cost by area",
                                              "how many cranes are rented?"]
    assert items[0]["verdict"] == "declined" and items[0]["error_code"] == "not_understood"
    allowed = (await api.get("admin_a", "/api/pfa/ORG_A/audit?verdict=allowed")).json()["items"]
    assert len(allowed) == 2 and all(i["executed_sql"] for i in allowed)
    by_user = (await api.get("admin_a", "/api/pfa/ORG_A/audit?user=viewer_a")).json()["items"]
    assert [i["username"] for i in by_user] == ["viewer_a"]
    text = (await api.get("admin_a", "/api/pfa/ORG_A/audit?q=cranes")).json()["items"]
    assert len(text) == 1
    page = (await api.get("admin_a", "/api/pfa/ORG_A/audit?limit=2")).json()
    rest = (await api.get("admin_a", f"/api/pfa/ORG_A/audit?limit=2&before_id={page['next_before_id']}")).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    assert (await api.get("admin_b", "/api/pfa/ORG_B/audit")).json()["items"] == []  # other organizations' admins


async def test_only_admins_read_the_audit(audited):
    for user in ("editor_a", "viewer_a", "admin_b"):
        assert (await audited.get(user, "/api/pfa/ORG_A/audit")).status_code == 403


async def test_one_entry_and_counts(audited):
    api = audited
    first = (await api.get("admin_a", "/api/pfa/ORG_A/audit")).json()["items"][-1]
    entry = (await api.get("admin_a", f"/api/pfa/ORG_A/audit/{first['id']}")).json()
    assert entry["question"] == "how many cranes are rented?" and entry["provider"] == "offline"
    assert entry["attempts"][0]["allowed"] is True and entry["scope"]["organization_id"] == "ORG_A"
    assert entry["explain_estimate"]["total_cost"] > 0 and len(entry["row_hash"]) == 64
    assert (await api.get("admin_a", "/api/pfa/ORG_A/audit/999999")).status_code == 404
    stats = (await api.get("admin_a", "/api/pfa/ORG_A/audit/stats")).json()
    assert {(s["verdict"], s["error_code"], s["count"]) for s in stats["by_verdict"]} == {
        ("allowed", None, 2), ("declined", "not_understood", 1)}


async def test_exports_stream_every_entry(audited):
    api = audited
    jsonl = (await api.get("admin_a", "/api/pfa/ORG_A/audit/export?format=jsonl")).text.splitlines()
    assert [json.loads(line)["question"] for line in jsonl][0] == "how many cranes are rented?" and len(jsonl) == 3
    rows = list(csv.DictReader(io.StringIO((await api.get("admin_a", "/api/pfa/ORG_A/audit/export?format=csv")).text)))
    assert len(rows) == 3 and rows[2]["question"] == "what is the meaning of life"
    assert (await api.get("admin_a", "/api/pfa/ORG_A/audit/export?format=xml")).status_code == 422


async def test_verify_detects_tampering_by_the_owner(audited):
    api = audited
    before = (await api.get("admin_a", "/api/pfa/ORG_A/audit/verify")).json()
    assert (before["intact"], before["checked"], before["broken"], before["broken_elsewhere"]) == (True, 3, [], False)
    with psycopg.connect(api.urls.admin, autocommit=True) as owner:
        owner.execute("ALTER TABLE vanguard.nlq_audit DISABLE TRIGGER nlq_audit_append_only")
        owner.execute("UPDATE vanguard.nlq_audit SET question = 'nothing to see' WHERE question LIKE 'total%'")
        owner.execute("ALTER TABLE vanguard.nlq_audit ENABLE TRIGGER nlq_audit_append_only")
    report = (await api.get("admin_a", "/api/pfa/ORG_A/audit/verify")).json()
    assert report["intact"] is False and len(report["broken"]) == 1


@pytest.mark.parametrize("query", ["verdict=maybe", "since=yesterday", "limit=0", "limit=501", "before_id=x",
                                   "q=%00"])
async def test_bad_filters_are_422(audited, query):
    assert (await audited.get("admin_a", f"/api/pfa/ORG_A/audit?{query}")).status_code == 422
