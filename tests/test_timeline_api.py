"""GET /api/pfa/{org}/timeline/bars: grouped keyset pages equal to the merged view, the grid's
filters, drafts with PEMS's forecast as a ghost, money only for members who may see costs."""

from __future__ import annotations

import re

import psycopg

from nlq.auth.passwords import hash_password
from store import accounts
from store.scope import SET_SCOPE, scope_params
from tests.api_fixtures import PASSWORD

BARS = "/api/pfa/ORG_A/timeline/bars"
MONEY = re.compile(r"monthly_rate|purchase_price|_cost|cost_variance|monthlyRate|purchasePrice", re.IGNORECASE)


def merged(urls, username: str, where: str = "true", params: tuple = ()) -> list[tuple]:
    """(group, id, forecast_start, forecast_end) of the caller's merged view, in the timeline's order."""
    with psycopg.connect(urls.app, autocommit=True) as conn:
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = %s", (username,)).fetchone()[0]
        with conn.transaction():
            conn.execute(SET_SCOPE, scope_params("ORG_A", user_id))
            return conn.execute(
                f"SELECT category, id, forecast_start::text, forecast_end::text FROM nlq.pfa_merged WHERE {where}"
                " ORDER BY category NULLS LAST, id", params).fetchall()


async def all_pages(api, user: str, query: str = "", limit: int = 37) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        suffix = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = (await api.get(user, BARS + suffix)).json()
        assert (body["bounds"] is None) == (cursor is not None), "bounds come with the first page only"
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_pages_by_category_cover_the_merged_view_exactly_once_with_drafts(api):
    saved = await api.post("editor_a", "/api/pfa/ORG_A/drafts", {
        "record_id": "PFA-0000003", "changes": {"category": "Aardvarks", "forecastEnd": "2031-01-31"}})
    assert saved.status_code == 200, saved.text
    items = await all_pages(api, "editor_a")
    assert [(i["group"], i["id"], i["forecast_start"], i["forecast_end"]) for i in items] == merged(api.urls, "editor_a")
    first = items[0]
    assert first["id"] == "PFA-0000003" and first["category"] == "Aardvarks" and first["has_draft"]
    # another user sees PEMS's values, not editor_a's draft
    others = await all_pages(api, "admin_a", limit=200)
    assert [(i["group"], i["id"], i["forecast_start"], i["forecast_end"]) for i in others] == merged(api.urls, "admin_a")
    assert not any(i["has_draft"] for i in others)


async def test_a_moved_forecast_carries_the_pems_forecast_as_its_ghost(api):
    before = next(i for i in (await api.get("editor_a", f"{BARS}?limit=500")).json()["items"] if i["id"] == "PFA-0000007")
    assert before["pems"] is None
    saved = await api.post("editor_a", "/api/pfa/ORG_A/drafts", {
        "record_id": "PFA-0000007", "changes": {"forecastEnd": "2032-02-02"}})
    assert saved.status_code == 200, saved.text
    other = await api.post("editor_a", "/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000008", "changes": {"area": "New Camp"}})
    assert other.json()["saved"] == ["PFA-0000008"]
    items = {i["id"]: i for i in (await api.get("editor_a", f"{BARS}?limit=500")).json()["items"]}
    moved = items["PFA-0000007"]
    assert moved["forecast_end"] == "2032-02-02" and moved["forecast_start"] == before["forecast_start"]
    assert moved["pems"] == {"forecast_start": before["forecast_start"], "forecast_end": before["forecast_end"]}
    assert items["PFA-0000008"]["has_draft"] and items["PFA-0000008"]["pems"] is None  # a draft that moves no date


async def test_the_grids_filters_and_grouping_by_area(api):
    items = await all_pages(api, "viewer_a", "&source=Rental&forecast_from=2026-03-01&forecast_to=2026-06-30")
    expected = merged(api.urls, "viewer_a", "source = 'Rental' AND forecast_end >= '2026-03-01' AND forecast_start <= '2026-06-30'")
    assert [i["id"] for i in items] == [e[1] for e in expected] and items
    by_area = (await api.get("viewer_a", f"{BARS}?group=area&limit=500")).json()
    areas = [i["area"] for i in by_area["items"]]
    assert [i["group"] for i in by_area["items"]] == areas
    assert areas == sorted(areas, key=lambda a: (a is None, a or ""))
    page = (await api.get("viewer_a", f"{BARS}?group=area&limit=20")).json()
    following = (await api.get("viewer_a", f"{BARS}?group=area&limit=20&cursor={page['next_cursor']}")).json()
    assert [i["id"] for i in page["items"] + following["items"]] == [i["id"] for i in by_area["items"][:40]]


async def test_bad_input_is_a_clear_error(api):
    wrong_group = await api.get("viewer_a", f"{BARS}?group=manufacturer")
    assert wrong_group.status_code == 422
    page = (await api.get("viewer_a", f"{BARS}?limit=5")).json()
    other_sort = await api.get("viewer_a", f"{BARS}?group=area&cursor={page['next_cursor']}")
    assert other_sort.status_code == 422 and "sort order" in other_sort.json()["error"]["message"]
    forged = await api.get("viewer_a", f"{BARS}?cursor=bm90LWEtY3Vyc29y")
    assert forged.status_code == 422 and forged.json()["error"]["details"]["field"] == "cursor"
    assert (await api.get("viewer_a", f"{BARS}?limit=501")).status_code == 422
    assert (await api.get("editor_b", BARS)).status_code == 403


async def test_first_page_has_bounds_today_and_what_the_caller_may_do(api):
    viewer = (await api.get("viewer_a", f"{BARS}?limit=10")).json()
    assert viewer["can_edit"] is False and viewer["sees_costs"] is True
    assert viewer["bounds"] == (await api.get("viewer_a", "/api/pfa/ORG_A/timeline")).json()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", viewer["today"])
    assert len(viewer["items"]) == 10 and viewer["next_cursor"]
    assert "forecast_cost" in viewer["items"][0] and "monthly_rate" in viewer["items"][0]
    assert (await api.get("editor_a", f"{BARS}?limit=1")).json()["can_edit"] is True


async def test_a_member_who_may_not_see_costs_gets_no_money(api):
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "masked_t", hash_password(PASSWORD), "Masked T")
        accounts.upsert_membership(conn, user_id, "ORG_A", "editor")
        accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    await api.post("masked_t", "/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000009", "changes": {"forecastEnd": "2033-03-03"}})
    response = await api.get("masked_t", f"{BARS}?limit=500")
    body = response.json()
    assert body["sees_costs"] is False and len(body["items"]) == 200
    assert not MONEY.search(response.text.replace('"sees_costs"', "")), response.text[:500]
    assert next(i for i in body["items"] if i["id"] == "PFA-0000009")["pems"] is not None


async def test_the_page_checks_the_grids_filters_and_says_what_the_caller_may_do(api):
    viewer = await api.get("viewer_a", "/o/ORG_A/timeline?source=Rental&group=area&zoom=quarter")
    assert viewer.status_code == 200 and 'data-can-edit="false"' in viewer.text and 'data-zoom="quarter"' in viewer.text
    assert 'id="tl-shift"' not in viewer.text and 'href="/o/ORG_A/records?source=Rental"' in viewer.text
    editor = await api.get("editor_a", "/o/ORG_A/timeline")
    assert 'data-can-edit="true"' in editor.text and 'id="tl-shift"' in editor.text
    for bad in ("forecast_from=soon", "group=class", "zoom=week", "is_actualized=maybe"):
        response = await api.get("viewer_a", f"/o/ORG_A/timeline?{bad}")
        assert response.status_code == 422 and response.headers["content-type"].startswith("text/html"), bad
