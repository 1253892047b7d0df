"""The commits list API (who, when, how many, where each stands; paged, org-scoped) and the change
set API's paging over a set of more than 1,000 items."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from store import accounts
from store.change_sets import ProposalItem, save_proposal
from store.sync.writeback import deliver_outbox
from tests.api_fixtures import _HASH, Api, seed

DRAFTS = "/api/pfa/ORG_A/drafts"
MONEY = ("monthlyRate", "purchasePrice", "monthly_rate", "purchase_price", "cost")


async def _commit(api, user: str, org: str, record_ids: list[str], area: str = "Listed") -> int:
    for rid in record_ids:
        saved = await api.post(user, f"/api/pfa/{org}/drafts", {"record_id": rid, "changes": {"area": area}})
        assert saved.status_code == 200, saved.text
    committed = (await api.post(user, f"/api/pfa/{org}/commit", {})).json()
    assert committed["commit_id"] is not None
    return committed["commit_id"]


async def test_commits_are_listed_newest_first_with_who_and_where_each_stands(api, pems_factory):
    pems = pems_factory(["ORG_A"], 200)
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = 'ORG_A'")
    first = await _commit(api, "editor_a", "ORG_A", ["PFA-0000001", "PFA-0000002"])
    assert deliver_outbox(api.urls.app, pems.client()).synced == 2
    await api.post("editor_a", DRAFTS, {"record_id": "PFA-0000003", "changes": {"area": "Mine"}})
    await api.post("editor_a", DRAFTS, {"record_id": "PFA-0000004", "changes": {"area": "Mine"}})
    with psycopg.connect(api.urls.app, autocommit=True) as conn:  # PEMS changed 0003's area meanwhile
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"Theirs\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000003'")
    second = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()["commit_id"]
    third = await _commit(api, "admin_a", "ORG_A", ["PFA-0000005"])
    other_org = await _commit(api, "editor_b", "ORG_B", ["PFA-0000001"])

    listing = (await api.get("editor_a", "/api/pfa/ORG_A/commits")).json()
    assert [c["commit_id"] for c in listing["items"]] == [third, second, first]
    assert other_org not in [c["commit_id"] for c in listing["items"]]
    assert listing["total"] == 3 and listing["pages"] == 1 and listing["page"] == 1
    by_id = {c["commit_id"]: c for c in listing["items"]}
    assert by_id[first]["drafts"] == 2 and by_id[first]["counts"]["delivered"] == 2
    assert by_id[first]["counts"]["pending"] == 0
    assert by_id[second]["drafts"] == 2
    assert by_id[second]["counts"] == {"pending": 1, "delivered": 0, "conflict": 1, "failed": 0, "discarded": 0}
    assert by_id[third]["user"]["username"] == "admin_a" and by_id[third]["mine"] is False
    assert by_id[first]["user"]["username"] == "editor_a" and by_id[first]["mine"] is True
    assert by_id[third]["created_at"] >= by_id[first]["created_at"]

    take = await api.post("editor_a", f"{DRAFTS}/PFA-0000003/resolve", {"strategy": "take_theirs"})
    assert take.status_code == 200
    again = {c["commit_id"]: c for c in (await api.get("editor_a", "/api/pfa/ORG_A/commits")).json()["items"]}
    assert again[second]["counts"]["conflict"] == 0 and again[second]["counts"]["discarded"] == 1


async def test_commits_pages_and_refuses_bad_page_numbers(api):
    made = [await _commit(api, "editor_a", "ORG_A", [f"PFA-00000{10 + i}"], area=f"Area {i}") for i in range(5)]
    page2 = (await api.get("editor_a", "/api/pfa/ORG_A/commits", params={"page": 2, "per_page": 2})).json()
    assert [c["commit_id"] for c in page2["items"]] == [made[2], made[1]]
    assert page2["total"] == 5 and page2["pages"] == 3
    page3 = (await api.get("editor_a", "/api/pfa/ORG_A/commits", params={"page": 3, "per_page": 2})).json()
    assert [c["commit_id"] for c in page3["items"]] == [made[0]]
    past = await api.get("editor_a", "/api/pfa/ORG_A/commits", params={"page": 9, "per_page": 2})
    assert past.status_code == 200 and past.json()["items"] == [] and past.json()["pages"] == 3
    for params in ({"page": 0}, {"page": -1}, {"page": "two"}, {"page": "1.5"}, {"page": ""},
                   {"per_page": 0}, {"per_page": 201}, {"page": "1e3"}, {"page": 10**30}):
        bad = await api.get("editor_a", "/api/pfa/ORG_A/commits", params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["error"]["code"] == "invalid_request"


async def test_commits_of_other_organizations_are_not_found_and_outsiders_are_refused(api):
    theirs = await _commit(api, "editor_b", "ORG_B", ["PFA-0000001"])
    assert (await api.get("editor_a", "/api/pfa/ORG_A/commits")).json()["items"] == []
    assert (await api.get("editor_a", f"/api/pfa/ORG_A/commits/{theirs}")).status_code == 404
    assert (await api.get("editor_a", "/api/pfa/ORG_B/commits")).status_code == 403
    assert (await api.get("viewer_a", "/api/pfa/ORG_A/commits")).status_code == 403  # editors' list
    assert (await api.get("admin_b", "/api/pfa/ORG_B/commits")).json()["items"][0]["commit_id"] == theirs


async def test_a_commit_can_hold_only_the_given_records(api):
    for rid in ("PFA-0000021", "PFA-0000022"):
        await api.post("editor_a", DRAFTS, {"record_id": rid, "changes": {"area": "Only"}})
    one = (await api.post("editor_a", "/api/pfa/ORG_A/commit", {"record_ids": ["PFA-0000022"]})).json()
    assert one["committed"] == ["PFA-0000022"]
    left = (await api.get("editor_a", DRAFTS, params={"state": "draft"})).json()["items"]
    assert [d["record_id"] for d in left] == ["PFA-0000021"]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/commit", {"record_ids": []})).status_code == 422


async def test_the_commits_list_holds_no_money_for_a_masked_member(api):
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "masked_a", _HASH, "Masked A")
        accounts.upsert_membership(conn, user_id, "ORG_A", "editor")
        assert accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    await api.post("editor_a", DRAFTS, {"record_id": "PFA-0000031", "changes": {"monthlyRate": 1234.5}})
    await api.post("editor_a", "/api/pfa/ORG_A/commit", {})
    response = await api.get("masked_a", "/api/pfa/ORG_A/commits")
    assert response.status_code == 200 and response.json()["total"] == 1
    assert not any(word in response.text for word in MONEY) and "1234" not in response.text


# -- a change set of more than 1,000 items, one page at a time ----------------------------------------

@pytest.fixture
async def big_api(db):
    """ORG_A with 1,200 records and a change set proposing a change to each of 1,150 of them."""
    seed(db.app, records=1200)
    app = create_app(Settings(), db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            api = Api(client=client, app=app, urls=db)
            async with await psycopg.AsyncConnection.connect(db.app, autocommit=True) as conn:
                user_id = (await (await conn.execute("SELECT id FROM vanguard.users WHERE username = 'editor_a'")).fetchone())[0]
                rows = await (await conn.execute("SELECT id, data FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A'"
                                                 " ORDER BY id DESC LIMIT 1150")).fetchall()
                items = [ProposalItem(rid, {"area": f"Paged {i}"}, {"area": data.get("area")})
                         for i, (rid, data) in enumerate(rows)]
                async with conn.transaction():
                    api.change_set = await save_proposal(conn, "ORG_A", user_id, "move 1150 records", {}, items,
                                                         {rid: data for rid, data in rows})
            yield api


async def test_a_change_set_over_1000_items_pages_in_a_stable_order_with_whole_set_counts(big_api):
    path = f"/api/pfa/ORG_A/change-sets/{big_api.change_set}"
    seen: list[str] = []
    for offset in (0, 500, 1000):
        body = (await big_api.get("editor_a", path, params={"limit": 500, "offset": offset})).json()
        assert body["total"] == 1150 and body["counts"] == {"proposed": 1150} and body["offset"] == offset
        seen += [item["record_id"] for item in body["items"]]
    assert len(seen) == 1150 and len(set(seen)) == 1150 and seen == sorted(seen)
    again = (await big_api.get("editor_a", path, params={"limit": 500, "offset": 500})).json()
    assert [i["record_id"] for i in again["items"]] == seen[500:1000]
    accepted = (await big_api.post("editor_a", f"{path}/accept")).json()
    assert len(accepted["accepted"]) == 1150  # "all" is the whole set, not the page
    body = (await big_api.get("editor_a", path, params={"limit": 10, "offset": 1140})).json()
    assert body["counts"] == {"draft": 1150} and len(body["items"]) == 10
    for params in ({"offset": -1}, {"limit": 1001}, {"offset": "x"}, {"limit": 0}):
        assert (await big_api.get("editor_a", path, params=params)).status_code == 422
    assert (await big_api.get("editor_b", f"/api/pfa/ORG_B/change-sets/{big_api.change_set}")).status_code == 404
