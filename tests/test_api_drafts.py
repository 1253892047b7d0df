"""Drafts through the API: every rule of DESIGN section 3, batches, discard, commit, conflicts, KPIs."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from store.sync.writeback import deliver_outbox

DRAFTS = "/api/pfa/ORG_A/drafts"


def record(urls, record_id: str) -> dict:
    with psycopg.connect(urls.app) as conn:
        return conn.execute("SELECT data FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND id = %s",
                            (record_id,)).fetchone()[0]


def find(urls, **conditions) -> str:
    """The first ORG_A record whose data matches `conditions` (JSON values)."""
    with psycopg.connect(urls.app) as conn:
        for rid, data in conn.execute("SELECT id, data FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' ORDER BY id"):
            if all(data.get(k) == v for k, v in conditions.items()):
                return rid
    raise AssertionError(conditions)


def drafts_in_db(urls) -> list[tuple]:
    with psycopg.connect(urls.app) as conn:
        return conn.execute("SELECT record_id, state, delta FROM vanguard.pfa_draft ORDER BY id").fetchall()


async def test_save_list_and_persist_a_draft(api):
    response = await api.post("editor_a", DRAFTS, {"record_id": "PFA-0000001", "changes": {"area": "Jetty", "dor": "BEO"}})
    assert response.status_code == 200 and response.json() == {"saved": ["PFA-0000001"], "cleared": []}
    listed = (await api.get("editor_a", DRAFTS)).json()["items"]
    assert [(d["record_id"], d["state"], d["delta"]) for d in listed] == [("PFA-0000001", "draft", {"area": "Jetty", "dor": "BEO"})]
    assert (await api.get("admin_a", DRAFTS)).json()["items"] == []  # invisible to other users
    api.tokens.clear()  # a new login sees the same drafts
    assert len((await api.get("editor_a", DRAFTS)).json()["items"]) == 1


async def test_saving_again_merges_and_a_change_back_clears(api):
    rid = "PFA-0000001"
    original = record(api.urls, rid)["area"]
    await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"area": "X"}})
    await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"dor": "BEO" if record(api.urls, rid)["dor"] != "BEO" else "PROJECT"}})
    assert set(drafts_in_db(api.urls)[0][2]) == {"area", "dor"}
    await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"area": original}})
    assert set(drafts_in_db(api.urls)[0][2]) == {"dor"}


RULE_CASES = [
    ({"pfaId": "x"}, "read_only_field", "pfaId"),
    ({"actualStart": "2026-01-01"}, "read_only_field", "actualStart"),
    ({"colour": "red"}, "unknown_field", "colour"),
    ({"forecastEnd": "2026-02-30"}, "invalid_date", "forecastEnd"),
    ({"forecastEnd": "tomorrow"}, "invalid_date", "forecastEnd"),
    ({"forecastEnd": 20260101}, "type", "forecastEnd"),
    ({"forecastStart": "2030-01-01", "forecastEnd": "2029-01-01"}, "end_before_start", "forecastEnd"),
    ({"monthlyRate": -5}, "non_negative", "monthlyRate"),
    ({"monthlyRate": "5000"}, "type", "monthlyRate"),
    ({"monthlyRate": True}, "type", "monthlyRate"),
    ({"source": "Lease"}, "allowed_values", "source"),
    ({"dor": "CLIENT"}, "allowed_values", "dor"),
    ({"isDiscontinued": "yes"}, "type", "isDiscontinued"),
    ({"area": ""}, "type", "area"),
    ({"area": "x" * 201}, "too_long", "area"),
    ({"area": None}, "required", "area"),
]


@pytest.mark.parametrize("changes, rule, field", RULE_CASES)
async def test_a_rule_violation_is_422_naming_record_field_and_rule(api, changes, rule, field):
    rid = find(api.urls, isActualized=False, isDiscontinued=False, source="Rental")
    response = await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": changes})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and rid in error["message"]
    assert {"record_id": rid, "field": field, "rule": rule} in [
        {k: e[k] for k in ("record_id", "field", "rule")} for e in error["details"]["errors"]]
    assert drafts_in_db(api.urls) == []


async def test_domain_rules_on_the_record_as_changed(api):
    rental = find(api.urls, source="Rental", isActualized=False, isDiscontinued=False)
    purchase = find(api.urls, source="Purchase", isActualized=False, isDiscontinued=False)
    on_site = find(api.urls, isActualized=True)
    cases = [
        (purchase, {"source": "Rental"}, "rental_needs_rate"),
        (rental, {"source": "Purchase"}, "purchase_needs_price"),
        (rental, {"monthlyRate": None}, "rental_needs_rate"),
        (on_site, {"forecastStart": "2020-01-01"}, "locked_when_actualized"),
        (on_site, {"source": "Purchase" if record(api.urls, on_site)["source"] == "Rental" else "Rental",
                   "purchasePrice": 10, "monthlyRate": 10}, "locked_when_actualized"),
        (rental, {"isDiscontinued": True, "isFundsTransferable": True}, "discontinued_and_transferable"),
    ]
    for rid, changes, rule in cases:
        response = await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": changes})
        assert response.status_code == 422, (rid, changes)
        assert rule in [e["rule"] for e in response.json()["error"]["details"]["errors"]], (rule, response.text)
    ok = await api.post("editor_a", DRAFTS, {"record_id": purchase, "changes": {"source": "Rental", "monthlyRate": 4000}})
    assert ok.status_code == 200


async def test_a_discontinued_record_cannot_be_undiscontinued(api):
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"isDiscontinued\": true, \"isFundsTransferable\": false}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000009'")
    response = await api.post("editor_a", DRAFTS, {"record_id": "PFA-0000009", "changes": {"isDiscontinued": False}})
    assert response.status_code == 422 and response.json()["error"]["details"]["errors"][0]["rule"] == "cannot_undiscontinue"


@pytest.mark.parametrize("body", [None, [], {"record_id": "PFA-0000001"}, {"record_id": "PFA-0000001", "changes": {}},
                                  {"record_id": 5, "changes": {"area": "x"}}, {"record_id": "P", "changes": "x"},
                                  {"record_id": "PFA-0000001", "changes": {"area": "x"}, "extra": 1},
                                  {"record_id": "x" * 101, "changes": {"area": "x"}}])
async def test_malformed_draft_bodies_are_422(api, body):
    response = await api.post("editor_a", DRAFTS, body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


async def test_unknown_and_other_organizations_records_are_422_not_500(api):
    response = await api.post("editor_a", DRAFTS, {"record_id": "PFA-9999999", "changes": {"area": "x"}})
    assert response.status_code == 422 and response.json()["error"]["details"]["errors"][0]["rule"] == "unknown_record"


async def test_a_batch_is_all_or_nothing_with_every_error_listed(api):
    items = [{"record_id": f"PFA-{i:07d}", "changes": {"area": f"Batch {i}"}} for i in range(1, 51)]
    items[10]["changes"] = {"dor": "NOPE"}
    items[20]["changes"] = {"pfaId": "x"}
    response = await api.post("editor_a", f"{DRAFTS}/batch", {"items": items})
    assert response.status_code == 422
    errors = response.json()["error"]["details"]["errors"]
    assert [(e["record_id"], e["rule"]) for e in errors] == [("PFA-0000011", "allowed_values"), ("PFA-0000021", "read_only_field")]
    assert drafts_in_db(api.urls) == []
    items[10]["changes"] = {"area": "fixed"}
    items[20]["changes"] = {"area": "fixed"}
    saved = await api.post("editor_a", f"{DRAFTS}/batch", {"items": items})
    assert saved.status_code == 200 and len(saved.json()["saved"]) == 50


async def test_batch_limits_and_duplicates(api):
    too_many = [{"record_id": f"PFA-{i:07d}", "changes": {"area": "x"}} for i in range(5001)]
    assert (await api.post("editor_a", f"{DRAFTS}/batch", {"items": too_many})).status_code == 422
    twice = [{"record_id": "PFA-0000001", "changes": {"area": "a"}}, {"record_id": "PFA-0000001", "changes": {"area": "b"}}]
    response = await api.post("editor_a", f"{DRAFTS}/batch", {"items": twice})
    assert response.status_code == 422 and response.json()["error"]["details"]["errors"][0]["rule"] == "duplicate_record"


async def test_concurrent_saves_on_one_record_keep_every_field(api):
    headers = await api.login("editor_a")
    fields = [{"area": "Concurrent"}, {"dor": "BEO"}, {"class": "Concurrent Class"}, {"category": "Cranes"}]
    rid = find(api.urls, dor="PROJECT", isActualized=False)
    responses = await asyncio.gather(*[api.client.post(DRAFTS, json={"record_id": rid, "changes": f}, headers=headers)
                                       for f in fields])
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    (only,) = [d for d in drafts_in_db(api.urls) if d[1] == "draft"]
    assert set(only[2]) >= {"area", "dor", "class"}


async def test_discard_by_records_change_set_or_all(api):
    for i in (1, 2, 3):
        await api.post("editor_a", DRAFTS, {"record_id": f"PFA-000000{i}", "changes": {"area": "D"}})
    one = await api.post("editor_a", f"{DRAFTS}/discard", {"record_ids": ["PFA-0000001"]})
    assert one.json() == {"discarded": ["PFA-0000001"]}
    rest = await api.post("editor_a", f"{DRAFTS}/discard", {"all": True})
    assert rest.json() == {"discarded": ["PFA-0000002", "PFA-0000003"]}
    assert (await api.post("editor_a", f"{DRAFTS}/discard", {})).status_code == 422
    assert (await api.post("editor_a", f"{DRAFTS}/discard", {"all": True, "record_ids": ["x"]})).status_code == 422


async def test_commit_then_status_then_writeback(api, pems_factory):
    pems = pems_factory(["ORG_A"], 200)  # same demo seed as the database's ORG_A
    rid = "PFA-0000005"
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = 'ORG_A'")
    await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"area": "Committed Area"}})
    committed = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()
    assert committed["committed"] == [rid] and committed["conflicts"] == []
    status = (await api.get("editor_a", f"/api/pfa/ORG_A/commits/{committed['commit_id']}")).json()
    assert status["counts"] == {"committed": 1}
    assert deliver_outbox(api.urls.app, pems.client()).synced == 1
    status = (await api.get("editor_a", f"/api/pfa/ORG_A/commits/{committed['commit_id']}")).json()
    assert status["items"][0]["state"] == "synced"
    assert pems.sim.snapshot("ORG_A")[rid][0]["area"] == "Committed Area"
    assert (await api.get("admin_a", f"/api/pfa/ORG_A/commits/{committed['commit_id']}")).status_code == 404
    empty = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()
    assert empty == {"commit_id": None, "committed": [], "conflicts": []}


async def test_conflict_then_keep_mine_or_take_theirs(api):
    for rid in ("PFA-0000011", "PFA-0000012"):
        await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"area": "Mine"}})
    with psycopg.connect(api.urls.app, autocommit=True) as conn:  # PEMS changed the same field meanwhile
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"Theirs\"}'"
                     " WHERE organization_id = 'ORG_A' AND id IN ('PFA-0000011', 'PFA-0000012')")
    result = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()
    assert sorted(c["record_id"] for c in result["conflicts"]) == ["PFA-0000011", "PFA-0000012"]
    assert result["conflicts"][0]["fields"]["area"]["mine"] == "Mine"
    assert result["conflicts"][0]["fields"]["area"]["theirs"] == "Theirs"
    keep = await api.post("editor_a", f"{DRAFTS}/PFA-0000011/resolve", {"strategy": "keep_mine"})
    take = await api.post("editor_a", f"{DRAFTS}/PFA-0000012/resolve", {"strategy": "take_theirs"})
    assert keep.json()["state"] == "draft" and take.json()["state"] == "discarded"
    again = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()
    assert again["committed"] == ["PFA-0000011"] and again["conflicts"] == []
    assert (await api.post("editor_a", f"{DRAFTS}/PFA-0000011/resolve", {"strategy": "keep_mine"})).status_code == 404
    assert (await api.post("editor_a", f"{DRAFTS}/PFA-0000011/resolve", {"strategy": "merge"})).status_code == 422


async def test_kpis_apply_the_callers_drafts(api):
    before = (await api.get("editor_a", "/api/pfa/ORG_A/kpis")).json()
    assert before["totals"]["records"] == 200
    rid = find(api.urls, source="Rental", category="Cranes", isActualized=False, isDiscontinued=False)
    old = record(api.urls, rid)
    await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"category": "Vehicles", "monthlyRate": old["monthlyRate"] * 2}})
    after = (await api.get("editor_a", "/api/pfa/ORG_A/kpis")).json()
    group = {(g["category"], g["source"]): g for g in after["groups"]}
    was = {(g["category"], g["source"]): g for g in before["groups"]}
    assert group[("Cranes", "Rental")]["records"] == was[("Cranes", "Rental")]["records"] - 1
    assert group[("Vehicles", "Rental")]["records"] == was[("Vehicles", "Rental")]["records"] + 1
    assert after["totals"]["records"] == 200
    merged = (await api.get("editor_a", f"/api/pfa/ORG_A/records/{rid}")).json()
    assert after["totals"]["forecast_cost"] == pytest.approx(
        before["totals"]["forecast_cost"] + merged["forecast_cost"] - (await api.get("viewer_a", f"/api/pfa/ORG_A/records/{rid}")).json()["forecast_cost"])
    assert (await api.get("viewer_a", "/api/pfa/ORG_A/kpis")).json() == before  # other users: no drafts
    assert set(after["timeline"]) == {"plan_start", "plan_end", "forecast_start", "forecast_end", "actual_start", "actual_end"}


@pytest.mark.parametrize("body", [
    {"record_id": "PFA\x00", "changes": {"area": "x"}},
    {"record_id": "PFA-\ud800", "changes": {"area": "x"}},
    {"record_id": "PFA-0000001", "changes": {"area": "bad\x00text"}},
    {"record_id": "PFA-0000001", "changes": {"area": "lone \udfff"}},
    {"record_id": "PFA-0000001", "changes": {"\udfffkey\x00": "x"}},
    {"record_id": "PFA-0000001", "changes": {"monthlyRate": 1e308 * 10}},
    {"record_id": "PFA-0000001", "changes": {"monthlyRate": 10 ** 40}},
])
async def test_text_the_database_cannot_hold_is_422_not_500(api, body):
    import json as _json
    raw = _json.dumps(body).encode()  # keeps lone surrogates as \\u escapes, as a hostile client would
    response = await api.client.post(DRAFTS, content=raw, headers={**await api.login("editor_a"),
                                                                   "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert drafts_in_db(api.urls) == []


async def test_one_save_lists_every_rule_it_breaks_not_only_the_value_rules(api):
    rid = find(api.urls, isActualized=False)
    start = record(api.urls, rid)["forecastStart"]
    assert start
    response = await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {
        "monthlyRate": -5, "area": "", "forecastEnd": "1990-01-01", "source": "Purchase", "purchasePrice": None}})
    assert response.status_code == 422
    error = response.json()["error"]
    rules = {(e["field"], e["rule"]) for e in error["details"]["errors"]}
    assert rules == {("monthlyRate", "non_negative"), ("area", "type"), ("forecastEnd", "end_before_start"),
                     ("purchasePrice", "purchase_needs_price")}
    assert error["code"] == "validation_failed" and "(and 3 more)" in error["message"]
    assert all(e["record_id"] == rid for e in error["details"]["errors"])
    assert [d for d in drafts_in_db(api.urls) if d[1] == "draft"] == []


async def test_batches_save_while_other_sessions_write_ahead_log(api):
    """A batch's statement triggers note the caller's latest draft write once per statement; with
    other sessions writing meanwhile, the WAL position read per row may differ between the rows of
    one statement, which must not turn one user's rows into two conflicting marks (a 500)."""
    stop = asyncio.Event()

    async def churn() -> None:
        with psycopg.connect(api.urls.admin, autocommit=True) as conn:
            conn.execute("CREATE TABLE wal_churn (n integer)")
            while not stop.is_set():
                for _ in range(50):
                    conn.execute("INSERT INTO wal_churn VALUES (1)")
                await asyncio.sleep(0)

    writer = asyncio.get_running_loop().run_in_executor(None, lambda: asyncio.run(churn()))
    try:
        for round_ in range(12):
            items = [{"record_id": f"PFA-{i:07d}", "changes": {"area": f"Churn {round_}"}} for i in range(1, 201)]
            response = await api.post("editor_a", f"{DRAFTS}/batch", {"items": items})
            assert response.status_code == 200, response.text
            assert len(response.json()["saved"]) == 200
    finally:
        stop.set()
        await writer
    with psycopg.connect(api.urls.app) as conn:
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft WHERE delta ->> 'area' = 'Churn 11'").fetchone()[0] == 200
