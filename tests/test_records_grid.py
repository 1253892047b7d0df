"""What the records grid needs of the API: text filters in any case, the organization's values per
name column (`/values/{field}`), and the CSV export of the current filter and sort."""

from __future__ import annotations

import csv
import doctest
import io
import json

import psycopg

import nlq.web.grid
from nlq.web.grid import format_cell, grid_columns
from store import accounts
from store.fields import BY_COLUMN, FIELDS
from tests.api_fixtures import _HASH

MONEY = {f.column for f in FIELDS if f.financial} | {"monthlyRate", "purchasePrice"}


def money_in(value) -> set[str]:
    """Every money column or key anywhere in a JSON value (or the header of CSV rows)."""
    if isinstance(value, dict):
        return {k for k in value if k in MONEY}.union(*(money_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(money_in(v) for v in value))
    return set()


def _ids(urls, where: str, params: tuple = (), order: str = "id") -> list[str]:
    with psycopg.connect(urls.app) as conn:
        return [r[0] for r in conn.execute(
            f"SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL AND {where}"
            f" ORDER BY {order}", params)]


def _distinct(urls, column: str) -> list[str]:
    with psycopg.connect(urls.app) as conn:
        return [r[0] for r in conn.execute(
            f"SELECT DISTINCT {column} FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"
            f" AND {column} IS NOT NULL")]


async def test_text_filters_match_in_any_case(api):
    cranes = _ids(api.urls, "category = 'Cranes'")
    assert cranes
    for query in ("category=cranes", "category=CRANES", "category=Cranes"):
        page = (await api.get("viewer_a", f"/api/pfa/ORG_A?{query}&limit=1000")).json()
        assert [i["id"] for i in page["items"]] == cranes, query
        assert (await api.get("viewer_a", f"/api/pfa/ORG_A/count?{query}")).json() == {"count": len(cranes)}
    maker = sorted(_distinct(api.urls, "manufacturer"))[0]
    page = (await api.get("viewer_a", "/api/pfa/ORG_A", params={"manufacturer": maker.lower(), "limit": 1000})).json()
    assert [i["id"] for i in page["items"]] == _ids(api.urls, "manufacturer = %s", (maker,))
    page = (await api.get("viewer_a", "/api/pfa/ORG_A?source=rental&dor=beo&limit=1000")).json()
    assert [i["id"] for i in page["items"]] == _ids(api.urls, "source = 'Rental' AND dor = 'BEO'")
    assert (await api.get("viewer_a", "/api/pfa/ORG_A?category=crane")).json()["items"] == []  # equal, not contained


async def test_a_filter_finds_a_draft_value_in_any_case(api):
    body = {"record_id": "PFA-0000007", "changes": {"area": "Bay Nine"}}
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts", body)).status_code == 200
    page = (await api.get("editor_a", "/api/pfa/ORG_A?area=bay%20nine")).json()
    assert [i["id"] for i in page["items"]] == ["PFA-0000007"]
    assert (await api.get("viewer_a", "/api/pfa/ORG_A?area=bay%20nine")).json()["items"] == []


async def test_values_are_the_organizations_own_with_the_callers_drafts(api):
    body = (await api.get("viewer_a", "/api/pfa/ORG_A/values/category")).json()
    assert body["field"] == "category" and body["label"] == "Category" and body["truncated"] is False
    assert body["values"] == sorted(_distinct(api.urls, "category"), key=str.casefold)
    assert "Cranes" in (await api.get("viewer_a", "/api/pfa/ORG_A/values/category?q=cRAN")).json()["values"]
    assert all("cran" in v.lower() for v in
               (await api.get("viewer_a", "/api/pfa/ORG_A/values/category?q=cran")).json()["values"])
    for field in ("class", "area", "manufacturer"):
        assert (await api.get("viewer_a", f"/api/pfa/ORG_A/values/{field}")).json()["values"] == sorted(
            _distinct(api.urls, field), key=str.casefold)
    draft = {"record_id": "PFA-0000003", "changes": {"category": "Zz Drafted Category"}}
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts", draft)).status_code == 200
    assert "Zz Drafted Category" in (await api.get("editor_a", "/api/pfa/ORG_A/values/category")).json()["values"]
    assert "Zz Drafted Category" not in (await api.get("viewer_a", "/api/pfa/ORG_A/values/category")).json()["values"]
    limited = (await api.get("viewer_a", "/api/pfa/ORG_A/values/category?limit=2")).json()
    assert len(limited["values"]) == 2 and limited["truncated"] is True


async def test_values_are_scoped_to_the_organization_and_to_name_columns(api):
    org_b = (await api.get("editor_b", "/api/pfa/ORG_B/values/area")).json()["values"]
    with psycopg.connect(api.urls.app) as conn:
        assert org_b == sorted((r[0] for r in conn.execute(
            "SELECT DISTINCT area FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_B' AND area IS NOT NULL")),
            key=str.casefold)
    assert (await api.get("editor_b", "/api/pfa/ORG_A/values/area")).status_code == 403
    for field in ("monthly_rate", "id", "nope", "data"):
        refused = await api.get("viewer_a", f"/api/pfa/ORG_A/values/{field}")
        assert refused.status_code == 404, field  # a path naming no list of values
        assert refused.json()["error"]["code"] == "not_found"
        assert "category" in refused.json()["error"]["details"]["allowed"]


async def test_the_csv_export_carries_the_filter_and_the_sort(api):
    response = await api.get("viewer_a", "/api/pfa/ORG_A/export?format=csv&category=cranes&sort=-forecast_end")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="ORG_A.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [r["id"] for r in rows] == _ids(api.urls, "category = 'Cranes'", order="forecast_end DESC NULLS LAST, id")
    assert {r["category"] for r in rows} == {"Cranes"}
    assert "monthly_rate" in rows[0] and "data" not in rows[0]
    chosen = await api.get("viewer_a", "/api/pfa/ORG_A/export?format=csv&source=Purchase&columns=id&columns=source")
    table = list(csv.reader(io.StringIO(chosen.text, newline="")))
    assert table[0] == ["id", "source"]
    assert [r[0] for r in table[1:]] == _ids(api.urls, "source = 'Purchase'")
    unknown = await api.get("viewer_a", "/api/pfa/ORG_A/export?format=csv&columns=data")
    assert unknown.status_code == 422
    assert (await api.get("viewer_a", "/api/pfa/ORG_A/export?format=xml")).status_code == 422


async def test_the_json_lines_export_follows_the_same_filters(api):
    lines = [json.loads(line) for line in
             (await api.get("viewer_a", "/api/pfa/ORG_A/export?area=camp&sort=-id")).text.splitlines()]
    assert [line["id"] for line in lines] == _ids(api.urls, "area = 'Camp'", order="id DESC")
    assert lines and lines[0]["data"]["area"] == "Camp"  # every column, as the whole export has


async def test_a_masked_member_gets_no_money_from_values_or_the_csv(api):
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "masked_a", _HASH, "Masked A")
        accounts.upsert_membership(conn, user_id, "ORG_A", "editor")
        assert accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    hidden = api.client
    hidden.headers.update(await api.login("masked_a"))
    refused = await hidden.get("/api/pfa/ORG_A/values/monthly_rate")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "costs_hidden"
    export = await hidden.get("/api/pfa/ORG_A/export", params={"format": "csv", "category": "Cranes"})
    rows = list(csv.DictReader(io.StringIO(export.text, newline="")))
    assert rows and not money_in(rows)
    for params in ({"columns": "forecast_cost"}, {"sort": "-monthly_rate"}):
        refused = await hidden.get("/api/pfa/ORG_A/export", params={"format": "csv", **params})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "costs_hidden", params
    lines = (await hidden.get("/api/pfa/ORG_A/export", params={"category": "cranes"})).text.splitlines()
    assert lines and not money_in([json.loads(line) for line in lines])


def test_the_grid_labels_columns_from_the_registry_and_hides_money_when_masked():
    labels = {f.column: f.label for f in FIELDS}
    assert labels["monthly_rate"] == "Monthly rate" and labels["dor"] == "DOR" and labels["id"] == "Record"
    assert all(label and "_" not in label for label in labels.values())
    shown = grid_columns(True, [("category", "Cranes")], "forecast_cost")
    cost = next(c for c in shown if c.column == "forecast_cost")
    assert cost.aria_sort == "ascending" and cost.sort_url == "?category=Cranes&sort=-forecast_cost"
    assert next(c for c in shown if c.column == "area").aria_sort is None
    masked = grid_columns(False, [], "id")
    assert not {c.column for c in masked} & {f.column for f in FIELDS if f.financial}
    assert BY_COLUMN["monthly_rate"].financial


def test_values_are_written_for_people():
    assert doctest.testmod(nlq.web.grid).failed == 0
    assert format_cell(1607200, "money") == "$1,607,200.00"
    assert format_cell("2026-03-12", "date") == "12 Mar 2026"
    assert format_cell(False, "boolean") == "no" and format_cell(None, "money") == ""
