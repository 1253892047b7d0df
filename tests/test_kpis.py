"""KPIs with drafts (baseline + the moves triggers record) always equal a full aggregate of the
caller's merged view, through saves, edits of category and costs, discards, bulk proposals and
acceptance, commits, PEMS changes under drafts, deletions in PEMS and compaction."""

from __future__ import annotations

import psycopg
import pytest

from nlq import kpis
from store import mirror
from store.scope import SET_SCOPE, scope_params
from store.sync.worker import sync_organization

NAMES = ("category", "source", "records", "plan_cost", "forecast_cost", "actual_cost", "cost_variance")


def brute_force(urls, username: str) -> list[dict]:
    """The same figures by scanning the merged view as that user (after refreshing the baseline)."""
    with psycopg.connect(urls.app, autocommit=True) as conn:
        mirror.refresh_kpis(conn)
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = %s", (username,)).fetchone()[0]
        with conn.transaction():
            conn.execute(SET_SCOPE, scope_params("ORG_A", user_id))
            rows = conn.execute(
                "SELECT coalesce(category, ''), coalesce(source, ''), count(*), coalesce(sum(plan_cost), 0),"
                " coalesce(sum(forecast_cost), 0), coalesce(sum(actual_cost), 0),"
                " coalesce(sum(forecast_cost), 0) - coalesce(sum(plan_cost), 0)"
                " FROM nlq.pfa_merged GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    return [dict(zip(NAMES, row)) for row in rows]


async def assert_kpis_exact(api, username: str = "editor_a") -> None:
    expected = brute_force(api.urls, username)
    groups = (await api.get(username, "/api/pfa/ORG_A/kpis")).json()["groups"]
    assert [(g["category"], g["source"], g["records"]) for g in groups] == \
        [(e["category"], e["source"], e["records"]) for e in expected]
    for got, want in zip(groups, expected):
        for name in NAMES[3:]:
            assert got[name] == pytest.approx(float(want[name]), abs=0.01), (got["category"], got["source"], name)


async def save(api, record_id: str, changes: dict, user: str = "editor_a") -> None:
    response = await api.post(user, "/api/pfa/ORG_A/drafts", {"record_id": record_id, "changes": changes})
    assert response.status_code == 200, response.text


async def test_kpis_follow_every_kind_of_draft_change(api, pems_factory):
    await assert_kpis_exact(api)
    await save(api, "PFA-0000001", {"category": "Brand New Category"})
    await save(api, "PFA-0000002", {"monthlyRate": 123456})
    await assert_kpis_exact(api)
    await save(api, "PFA-0000001", {"category": "Another Category", "monthlyRate": 999})  # an existing draft moves
    items = [{"record_id": f"PFA-{n:07d}", "changes": {"area": "Batch", "dor": "BEO"}} for n in range(10, 60)]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts/batch", {"items": items})).status_code == 200
    await assert_kpis_exact(api)
    await assert_kpis_exact(api, "admin_a")  # other users see none of it
    discarded = await api.post("editor_a", "/api/pfa/ORG_A/drafts/discard", {"record_ids": ["PFA-0000002"]})
    assert discarded.json()["discarded"] == ["PFA-0000002"]
    await assert_kpis_exact(api)

    proposal = await api.post("editor_a", "/api/ai/bulk", {"org_id": "ORG_A", "request": "extend all concrete equipment by 2 weeks"})
    assert proposal.status_code == 200
    await assert_kpis_exact(api)  # proposed drafts do not count
    change_set = max(s["id"] for s in (await api.get("editor_a", "/api/pfa/ORG_A/change-sets")).json()["items"])
    assert (await api.post("editor_a", f"/api/pfa/ORG_A/change-sets/{change_set}/accept", None)).status_code == 200
    await assert_kpis_exact(api)

    # PEMS changes records under drafts (the drafts' mirror side moves), and stops returning one.
    pems = pems_factory(["ORG_A"], 200)
    pems.control("change", org="ORG_A", count=60, seed=3)
    pems.control("delete", org="ORG_A", ids=["PFA-0000011"])
    assert sync_organization(api.urls.app, pems.client(), "ORG_A", full=True).status == "succeeded"
    await assert_kpis_exact(api)

    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = 'ORG_A'")
    committed = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()
    assert committed["committed"]
    await assert_kpis_exact(api)  # committed drafts leave the merged view and the KPIs alike


async def test_many_small_saves_are_compacted_without_changing_the_figures(api):
    rentals = [r for r, in psycopg.connect(api.urls.app).execute(
        "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND source = 'Rental' ORDER BY id LIMIT 30")]
    for n in range(kpis.COMPACT_AFTER + 20):  # each save that moves money records one move
        await save(api, rentals[n % len(rentals)], {"monthlyRate": 1000 + n})
    with psycopg.connect(api.urls.app) as conn:
        before = conn.execute("SELECT count(*) FROM vanguard.kpi_draft_delta").fetchone()[0]
    assert before > kpis.COMPACT_AFTER
    await assert_kpis_exact(api)
    with psycopg.connect(api.urls.app) as conn:
        after = conn.execute("SELECT count(*) FROM vanguard.kpi_draft_delta").fetchone()[0]
    assert after < 60
    await assert_kpis_exact(api)


async def test_the_reader_role_cannot_see_the_draft_moves(api):
    with psycopg.connect(api.urls.reader) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM vanguard.kpi_draft_delta")


async def test_pems_figures_beside_the_drafts_are_the_baseline_without_them(api):
    before = (await api.get("editor_a", "/api/pfa/ORG_A/kpis")).json()
    assert before["pems"] == {"groups": before["groups"], "totals": before["totals"]}
    await save(api, "PFA-0000001", {"category": "Brand New Category"})
    await save(api, "PFA-0000002", {"monthlyRate": 123456})
    after = (await api.get("editor_a", "/api/pfa/ORG_A/kpis")).json()
    assert after["pems"] == before["pems"]  # PEMS has not changed
    assert after["groups"] != after["pems"]["groups"]
    assert "Brand New Category" in {g["category"] for g in after["groups"]}
    assert "Brand New Category" not in {g["category"] for g in after["pems"]["groups"]}
    assert after["totals"]["records"] == after["pems"]["totals"]["records"]
