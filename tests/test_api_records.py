"""GET /api/pfa/{org}: filters, sort, keyset paging, meta; one record; the JSON-lines export."""

from __future__ import annotations

import json

import psycopg
import pytest



def expected(urls, where: str = "TRUE", params: tuple = (), order: str = "id") -> list[str]:
    with psycopg.connect(urls.app) as conn:
        return [r[0] for r in conn.execute(
            f"SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL AND {where}"
            f" ORDER BY {order}", params)]


async def all_pages(api, user: str, query: str, limit: int) -> list[dict]:
    items, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = await api.get(user, f"/api/pfa/ORG_A?{query}&limit={limit}{suffix}")
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_default_page_and_meta(api):
    response = await api.get("viewer_a", "/api/pfa/ORG_A")
    body = response.json()
    assert len(body["items"]) == 100 and body["next_cursor"]
    assert {i["organization_id"] for i in body["items"]} == {"ORG_A"}
    assert body["meta"] == {"draft_count": 0, "last_synced_at": None, "syncing": False, "stale": True}
    assert "data" not in body["items"][0] and body["items"][0]["has_draft"] is False


@pytest.mark.parametrize("query, where, params", [
    ("category=Cranes", "category = %s", ("Cranes",)),
    ("category=Cranes&category=Concrete", "category = ANY(%s)", (["Cranes", "Concrete"],)),
    ("source=Rental&area=Silo%204", "source = %s AND area = %s", ("Rental", "Silo 4")),
    ("class=Excavator%2030T", "class = %s", ("Excavator 30T",)),
    ("dor=BEO&is_actualized=true", "dor = %s AND is_actualized", ("BEO",)),
    ("is_discontinued=false", "NOT is_discontinued", ()),
    ("forecast_from=2026-01-01&forecast_to=2026-03-31", "forecast_end >= %s AND forecast_start <= %s",
     ("2026-01-01", "2026-03-31")),
    ("q=liebherr", "(id ILIKE %s OR class ILIKE %s OR manufacturer ILIKE %s OR model ILIKE %s)",
     ("%liebherr%",) * 4),
    ("q=100%25", "(id ILIKE %s OR class ILIKE %s OR manufacturer ILIKE %s OR model ILIKE %s)",
     ("%100\\%%",) * 4),
])
async def test_filters_match_a_direct_query(api, query, where, params):
    items = await all_pages(api, "viewer_a", query, 37)
    assert [i["id"] for i in items] == expected(api.urls, where, params)


@pytest.mark.parametrize("sort, order", [
    ("forecast_start", "forecast_start NULLS LAST, id"), ("-monthly_rate", "monthly_rate DESC NULLS LAST, id"),
    ("-id", "id DESC"), ("category", "category, id"), ("-forecast_cost", "forecast_cost DESC NULLS LAST, id"),
    ("actual_end", "actual_end NULLS LAST, id"),
])
async def test_keyset_paging_in_any_sort_returns_every_row_once(api, sort, order):
    items = await all_pages(api, "viewer_a", f"sort={sort}", 23)
    assert [i["id"] for i in items] == expected(api.urls, order=order)


async def test_drafts_show_in_the_list_for_their_owner_only(api):
    saved = await api.post("editor_a", "/api/pfa/ORG_A/drafts",
                           {"record_id": "PFA-0000004", "changes": {"area": "Draft Area"}})
    assert saved.status_code == 200, saved.text
    mine = (await api.get("editor_a", "/api/pfa/ORG_A?has_draft=true")).json()
    assert [i["id"] for i in mine["items"]] == ["PFA-0000004"] and mine["items"][0]["area"] == "Draft Area"
    assert mine["meta"]["draft_count"] == 1
    theirs = (await api.get("admin_a", "/api/pfa/ORG_A?has_draft=true")).json()
    assert theirs["items"] == [] and theirs["meta"]["draft_count"] == 0
    by_area = (await api.get("editor_a", "/api/pfa/ORG_A?area=Draft%20Area")).json()
    assert [i["id"] for i in by_area["items"]] == ["PFA-0000004"]


@pytest.mark.parametrize("query, code", [
    ("sort=nope", "validation_failed"), ("sort=data", "validation_failed"), ("limit=0", "invalid_request"),
    ("limit=1001", "invalid_request"), ("limit=ten", "invalid_request"), ("forecast_from=2026-13-01", "invalid_request"),
    ("is_actualized=maybe", "invalid_request"), ("cursor=garbage", "invalid_request"), ("q=" + "x" * 101, "invalid_request"),
])
async def test_bad_list_parameters_are_422(api, query, code):
    response = await api.get("viewer_a", f"/api/pfa/ORG_A?{query}")
    assert response.status_code == 422 and response.json()["error"]["code"] == code


async def test_a_cursor_from_another_sort_is_refused(api):
    cursor = (await api.get("viewer_a", "/api/pfa/ORG_A?sort=area&limit=5")).json()["next_cursor"]
    response = await api.get("viewer_a", f"/api/pfa/ORG_A?sort=-area&cursor={cursor}")
    assert response.status_code == 422 and "another sort" in response.json()["error"]["message"]


async def test_one_record_with_its_draft(api):
    await api.post("editor_a", "/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000002", "changes": {"area": "Mine"}})
    body = (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000002")).json()
    assert body["id"] == "PFA-0000002" and body["area"] == "Mine" and body["data"]["area"] == "Mine"
    assert body["draft"]["state"] == "draft" and body["draft"]["delta"] == {"area": "Mine"}
    assert body["draft"]["base"]["area"] == body["draft"]["current"]["area"] != "Mine"
    other = (await api.get("viewer_a", "/api/pfa/ORG_A/records/PFA-0000002")).json()
    assert other["draft"] is None and other["area"] != "Mine"
    missing = await api.get("viewer_a", "/api/pfa/ORG_A/records/PFA-9999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_export_streams_every_record_as_json_lines(api):
    await api.post("editor_a", "/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000007", "changes": {"area": "Exported"}})
    response = await api.get("editor_a", "/api/pfa/ORG_A/export")
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in lines] == expected(api.urls)
    assert {r["organization_id"] for r in lines} == {"ORG_A"}
    draft = next(r for r in lines if r["id"] == "PFA-0000007")
    assert draft["area"] == "Exported" and draft["has_draft"] is True and draft["data"]["area"] == "Exported"


@pytest.mark.parametrize("query", ["area=a%00b", "q=%00", "dor=%00", "category=x&cursor=%00"])
async def test_unstorable_text_in_filters_is_422(api, query):
    response = await api.get("viewer_a", f"/api/pfa/ORG_A?{query}")
    assert response.status_code == 422, response.text


async def test_record_path_with_a_nul_is_422(api):
    response = await api.get("viewer_a", "/api/pfa/ORG_A/records/PFA%00")
    assert response.status_code == 422


@pytest.mark.parametrize("query, where, params", [
    ("", "TRUE", ()),
    ("category=Cranes&source=Rental", "category = %s AND source = %s", ("Cranes", "Rental")),
    ("forecast_from=2026-01-01&forecast_to=2026-01-31", "forecast_end >= %s AND forecast_start <= %s",
     ("2026-01-01", "2026-01-31")),
    ("category=NoSuchCategory", "category = %s", ("NoSuchCategory",)),
])
async def test_count_matches_a_direct_count(api, query, where, params):
    response = await api.get("viewer_a", f"/api/pfa/ORG_A/count?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == {"count": len(expected(api.urls, where, params))}


async def test_count_includes_the_callers_drafts_only(api):
    before = (await api.get("editor_a", "/api/pfa/ORG_A/count?area=Counted%20Area")).json()["count"]
    saved = await api.post("editor_a", "/api/pfa/ORG_A/drafts",
                           {"record_id": "PFA-0000005", "changes": {"area": "Counted Area"}})
    assert saved.status_code == 200, saved.text
    assert (await api.get("editor_a", "/api/pfa/ORG_A/count?area=Counted%20Area")).json()["count"] == before + 1
    assert (await api.get("viewer_a", "/api/pfa/ORG_A/count?area=Counted%20Area")).json()["count"] == before


@pytest.mark.parametrize("query", ["is_actualized=maybe", "forecast_from=2026-02-30", "area=a%00b", "q=" + "x" * 101])
async def test_bad_count_parameters_are_422(api, query):
    response = await api.get("viewer_a", f"/api/pfa/ORG_A/count?{query}")
    assert response.status_code == 422, response.text


async def test_count_and_timeline_need_membership(api):
    for path in ("/api/pfa/ORG_B/count", "/api/pfa/ORG_B/timeline"):
        response = await api.get("viewer_a", path)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


async def test_timeline_bounds_match_the_data_and_widen_with_drafts(api):
    with psycopg.connect(api.urls.app) as conn:
        row = conn.execute(
            "SELECT min(plan_start), max(plan_end), min(forecast_start), max(forecast_end), min(actual_start),"
            " max(actual_end) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL").fetchone()
    names = ("plan_start", "plan_end", "forecast_start", "forecast_end", "actual_start", "actual_end")
    body = (await api.get("viewer_a", "/api/pfa/ORG_A/timeline")).json()
    assert body == {n: (v.isoformat() if v else None) for n, v in zip(names, row)}
    saved = await api.post("editor_a", "/api/pfa/ORG_A/drafts",
                           {"record_id": "PFA-0000006", "changes": {"forecastEnd": "2031-12-31"}})
    assert saved.status_code == 200, saved.text
    assert (await api.get("editor_a", "/api/pfa/ORG_A/timeline")).json()["forecast_end"] == "2031-12-31"
    assert (await api.get("viewer_a", "/api/pfa/ORG_A/timeline")).json() == body


async def test_page_values_are_the_same_json_as_the_record_detail(api):
    """The list loads values JSON-ready (numbers, ISO dates and times); the detail converts them after."""
    page = (await api.get("viewer_a", "/api/pfa/ORG_A?limit=50")).json()["items"]
    for item in page[:50:7]:
        detail = (await api.get("viewer_a", f"/api/pfa/ORG_A/records/{item['id']}")).json()
        assert {k: detail[k] for k in item} == item


def merged_view_ids(urls, username: str, where: str, params: tuple, order: str) -> list[str]:
    from store.scope import SET_SCOPE, scope_params

    with psycopg.connect(urls.app) as conn:
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = %s", (username,)).fetchone()[0]
        conn.execute(SET_SCOPE, scope_params("ORG_A", user_id))
        return [r[0] for r in conn.execute(f"SELECT id FROM nlq.pfa_merged WHERE {where} ORDER BY {order}", params)]


@pytest.mark.parametrize("query, where, params, order", [
    ("sort=id", "TRUE", (), "id"),
    ("sort=-id&category=Cranes", "category = 'Cranes'", (), "id DESC"),
    ("sort=area&has_draft=true", "has_draft", (), "area NULLS LAST, id"),
    ("sort=-forecast_end&source=Rental", "source = 'Rental'", (), "forecast_end DESC NULLS LAST, id"),
    ("sort=cost_variance&forecast_from=2026-01-01&forecast_to=2026-06-30",
     "forecast_end >= '2026-01-01' AND forecast_start <= '2026-06-30'", (), "cost_variance NULLS LAST, id"),
    ("sort=-monthly_rate&area=Draft%20Zone", "area = 'Draft Zone'", (), "monthly_rate DESC NULLS LAST, id"),
    ("sort=category&has_draft=false&q=pfa-00000", "NOT has_draft AND id ILIKE '%%pfa-00000%%'", (), "category NULLS LAST, id"),
    ("sort=last_synced_at", "TRUE", (), "last_synced_at NULLS LAST, id"),
])
async def test_every_page_equals_the_merged_view_with_drafts(api, query, where, params, order):
    """The list reads the base tables half by half (for speed); it must equal the view exactly."""
    items = [{"record_id": f"PFA-{n:07d}", "changes": {"area": "Draft Zone", "monthlyRate": 5000 + n,
                                                        "forecastEnd": "2031-01-31"}} for n in range(3, 90, 4)]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts/batch", {"items": items})).status_code == 200
    got = await all_pages(api, "editor_a", query, 17)
    assert [i["id"] for i in got] == merged_view_ids(api.urls, "editor_a", where, params, order)
    drafted = {i["id"]: i for i in got if i["has_draft"]}
    assert all(d["area"] == "Draft Zone" and d["forecast_end"] == "2031-01-31" for d in drafted.values())


def test_json_number_loader_handles_every_numeric_text():
    from nlq.db import _JsonNumberLoader

    loader = _JsonNumberLoader(1700)
    cases = {b"42": 42, b"-7": -7, b"12.50": 12.5, b"3.000": 3, b"1e3": 1000, b"NaN": None, b"Infinity": None,
             b"-Infinity": None, b"123456789012345678901234567890": 123456789012345678901234567890}
    assert {text: loader.load(text) for text in cases} == cases


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"])
def test_json_timestamp_loader_writes_what_isoformat_writes(pg_server, zone):
    """The fast path rewrites PostgreSQL's text; it must give exactly what a datetime's isoformat()
    gives, in any session time zone, with any fraction of a second."""
    import psycopg

    from nlq.db import _JsonTimestamptzLoader

    values = ["2026-12-01 18:23:09.66046+00", "2026-12-01 18:23:09+00", "2026-03-29 01:59:59.000001+00",
              "1999-12-31 23:59:59.5+00", "2026-12-01 18:23:09.100000+00", "0099-01-01 00:00:00+00", "infinity"]
    with psycopg.connect(pg_server.admin, autocommit=True) as conn:
        conn.execute(f"SET timezone = '{zone}'")
        fast = conn.cursor()
        fast.adapters.register_loader("timestamptz", _JsonTimestamptzLoader)
        for value in values:
            if value == "infinity":
                with pytest.raises(psycopg.DataError):  # as the datetime loader: Python has no infinite dates
                    fast.execute("SELECT %s::timestamptz", (value,)).fetchone()
                continue
            got = fast.execute("SELECT %s::timestamptz", (value,)).fetchone()[0]
            assert got == conn.execute("SELECT %s::timestamptz", (value,)).fetchone()[0].isoformat(), value
