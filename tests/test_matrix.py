"""The cost matrix API: every cell equals a day-by-day spread of the caller's merged view (drafts
applied, others' drafts not), totals add up, the CSV is the same table, masked members and bad
input are refused clearly."""

from __future__ import annotations

import csv
import doctest
import io
from collections import defaultdict
from datetime import date, timedelta

import psycopg
import pytest

import nlq.matrix.service
import nlq.web.matrix_pages
from nlq.matrix.service import MatrixWindow, add_months, cost_matrix
from store import accounts, mirror, queries
from store.scope import SET_SCOPE, scope_params
from store.sync.worker import sync_organization

FIRST, MONTHS = date(2026, 3, 1), 18
PERIODS = {"plan": ("plan_start", "plan_end"), "forecast": ("forecast_start", "forecast_end"),
           "actual": ("actual_start", "actual_end")}


def spread_by_day(urls, username: str, by: str, first: date, months: int) -> dict:
    """Cost per (group, month, measure) by walking every day of every period of the merged view."""
    stop = add_months(first, months)
    cells: dict = defaultdict(float)
    with psycopg.connect(urls.app, autocommit=True) as conn:
        mirror.refresh_kpis(conn)
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = %s", (username,)).fetchone()[0]
        with conn.transaction():
            conn.execute(SET_SCOPE, scope_params("ORG_A", user_id))
            cur = conn.execute(f"SELECT {by}, source, monthly_rate, purchase_price, plan_start, plan_end, forecast_start,"
                               " forecast_end, actual_start, actual_end FROM nlq.pfa_merged")
            names = [d.name for d in cur.description]
            records = [dict(zip(names, row)) for row in cur.fetchall()]
    for r in records:
        label = r[by] or ""
        for measure, (start_key, end_key) in PERIODS.items():
            start, end = r[start_key], r[end_key]
            if r["source"] == "Purchase" and start and r["purchase_price"] is not None:
                if first <= start < stop:
                    cells[label, add_months(start, 0), measure] += float(r["purchase_price"])
            elif r["source"] == "Rental" and start and end and r["monthly_rate"] is not None:
                day = max(start, first)
                while day < min(end, stop):
                    cells[label, add_months(day, 0), measure] += float(r["monthly_rate"]) / 30.44
                    day += timedelta(days=1)
    return cells


def assert_matches(matrix: dict, expected: dict, first: date, months: int) -> None:
    assert matrix["months"] == [add_months(first, k).isoformat()[:7] for k in range(months)]
    labels = {label for label, _, _ in expected if any(
        abs(v) > 0.005 for (l, _, _), v in expected.items() if l == label)}
    assert {row["label"] for row in matrix["rows"]} == labels
    for measure, column in (("plan", "plan_cost"), ("forecast", "forecast_cost"), ("actual", "actual_cost")):
        grand = 0.0
        for row in matrix["rows"]:
            row_sum = 0.0
            for k, cell in enumerate(row["cells"]):
                want = expected.get((row["label"], add_months(first, k), measure), 0.0)
                assert cell[column] == pytest.approx(want, abs=0.011), (row["label"], k, measure)
                row_sum += want
            assert row["total"][column] == pytest.approx(row_sum, abs=0.011), (row["label"], measure)
            grand += row_sum
        for k, cell in enumerate(matrix["totals"]):
            want = sum(v for (_, month, m), v in expected.items() if m == measure and month == add_months(first, k))
            assert cell[column] == pytest.approx(want, abs=0.011)
        assert matrix["total"][column] == pytest.approx(grand, abs=0.011)
    for row in matrix["rows"]:
        for cell in row["cells"]:
            assert cell["cost_variance"] == pytest.approx(cell["forecast_cost"] - cell["plan_cost"], abs=0.011)


async def get_matrix(api, user: str, by: str = "category", first: date = FIRST, months: int = MONTHS) -> dict:
    response = await api.get(user, f"/api/pfa/ORG_A/matrix?by={by}&from={first.isoformat()[:7]}&months={months}")
    assert response.status_code == 200, response.text
    return response.json()


def open_records(urls, count: int) -> list[str]:
    """Records whose forecast and source a draft may change (no equipment on site yet)."""
    with psycopg.connect(urls.app) as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND NOT is_actualized"
            " AND NOT is_discontinued ORDER BY id LIMIT %s", (count,)).fetchall()]


async def save(api, record_id: str, changes: dict, user: str = "editor_a") -> None:
    response = await api.post(user, "/api/pfa/ORG_A/drafts", {"record_id": record_id, "changes": changes})
    assert response.status_code == 200, response.text


async def test_cells_equal_a_day_by_day_spread_with_the_callers_drafts(api):
    for by in ("category", "area", "class"):
        assert_matches(await get_matrix(api, "editor_a", by), spread_by_day(api.urls, "editor_a", by, FIRST, MONTHS),
                       FIRST, MONTHS)
    before = await get_matrix(api, "editor_a")
    ids = open_records(api.urls, 5)
    await save(api, ids[0], {"category": "Brand New Category"})
    await save(api, ids[1], {"forecastStart": "2026-04-17", "forecastEnd": "2027-01-09"})
    await save(api, ids[2], {"source": "Purchase", "purchasePrice": 250000, "forecastStart": "2026-05-02",
                                    "forecastEnd": "2026-09-30"})
    await save(api, ids[3], {"source": "Rental", "monthlyRate": 9999, "forecastStart": "2026-02-20",
                                    "forecastEnd": "2026-03-11"})
    await save(api, ids[4], {"dor": "BEO"})  # moves no cost
    after = await get_matrix(api, "editor_a")
    assert after["drafts_applied"] == 5
    assert after != before
    assert "Brand New Category" in {row["label"] for row in after["rows"]}
    for by in ("category", "area"):
        assert_matches(await get_matrix(api, "editor_a", by), spread_by_day(api.urls, "editor_a", by, FIRST, MONTHS),
                       FIRST, MONTHS)
    # Drafts are private: another member of the organization sees the PEMS figures.
    assert (await get_matrix(api, "admin_a")) == {**before, "drafts_applied": 0}
    # A window that starts before the project and one far after it.
    early = date(2023, 7, 1)
    assert_matches(await get_matrix(api, "editor_a", "category", early, 36),
                   spread_by_day(api.urls, "editor_a", "category", early, 36), early, 36)
    late = await get_matrix(api, "editor_a", "category", date(2040, 1, 1), 3)
    assert late["rows"] == [] and late["total"]["forecast_cost"] == 0


@pytest.mark.parametrize("first, months", [(date(2024, 1, 1), 36), (date(2025, 11, 1), 3), (date(2027, 7, 1), 6),
                                           (date(2026, 5, 1), 1), (date(2035, 1, 1), 3)])
async def test_any_window_equals_the_day_by_day_spread(api, first, months):
    """Windows before, inside, at the end of and after the records' periods: months with no event of
    their own, a bucket of earlier events, groups whose periods end inside the window, none at all."""
    ids = open_records(api.urls, 3)
    await save(api, ids[0], {"area": "Moved Area", "forecastEnd": "2027-09-20"})
    await save(api, ids[1], {"forecastStart": "2025-12-15"})
    for by in ("category", "area"):
        assert_matches(await get_matrix(api, "editor_a", by, first, months),
                       spread_by_day(api.urls, "editor_a", by, first, months), first, months)


async def test_a_rental_spread_over_whole_months_adds_up_to_its_derived_cost(api):
    (record_id,) = open_records(api.urls, 1)
    await save(api, record_id, {"source": "Rental", "monthlyRate": 3044, "category": "Only One",
                                    "forecastStart": "2026-01-31", "forecastEnd": "2026-03-02"})
    matrix = await get_matrix(api, "editor_a", "category", date(2026, 1, 1), 3)
    row = next(r for r in matrix["rows"] if r["label"] == "Only One")
    # 1 day in January, 28 in February, 1 in March at 100 a day; the merged view says 30 days.
    assert [c["forecast_cost"] for c in row["cells"]] == [100, 2800, 100]
    record = (await api.get("editor_a", f"/api/pfa/ORG_A/records/{record_id}")).json()
    assert row["total"]["forecast_cost"] == record["forecast_cost"] == 3000


async def test_csv_is_the_same_table_for_the_chosen_measure(api):
    await save(api, "PFA-0000001", {"category": "=HYPERLINK(\"http://x\")"})
    matrix = await get_matrix(api, "editor_a", "category", FIRST, 6)
    response = await api.get("editor_a", "/api/pfa/ORG_A/matrix.csv?by=category&from=2026-03&months=6&measure=plan")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="ORG_A-plan-cost-by-category-2026-03-6m.csv"' in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["category", *matrix["months"], "total"]
    assert [r[0] for r in table[1:-1]] == [("'" if r["label"].startswith("=") else "") + (r["label"] or "(none)")
                                          for r in matrix["rows"]]
    assert any(r[0].startswith("'=") for r in table[1:-1])  # a formula stays text
    for line, row in zip(table[1:-1], matrix["rows"]):
        assert [float(v) for v in line[1:]] == [c["plan_cost"] for c in row["cells"]] + [row["total"]["plan_cost"]]
    assert table[-1] == ["total", *(str(c["plan_cost"]) for c in matrix["totals"]), str(matrix["total"]["plan_cost"])]


async def test_default_window_is_twelve_months_inside_the_forecast_span(api):
    response = await api.get("editor_a", "/api/pfa/ORG_A/matrix")
    assert response.status_code == 200
    matrix = response.json()
    timeline = (await api.get("editor_a", "/api/pfa/ORG_A/timeline")).json()
    assert matrix["length"] == 12 and len(matrix["months"]) == 12 and matrix["by"] == "category"
    assert timeline["forecast_start"][:7] <= matrix["months"][0]
    assert matrix["months"][-1] <= timeline["forecast_end"][:7]
    today = date.today().isoformat()[:7]
    if timeline["forecast_start"][:7] <= today <= timeline["forecast_end"][:7]:
        assert today in matrix["months"]


@pytest.mark.parametrize("query, field", [
    ("by=manufacturer", "by"), ("months=37", "months"), ("months=0", "months"), ("from=2026-13", "from"),
    ("from=March", "from"), ("months=abc", "months"), ("months=1.5", "months"),
])
async def test_bad_input_is_a_clear_422(api, query, field):
    response = await api.get("editor_a", f"/api/pfa/ORG_A/matrix?{query}")
    assert response.status_code == 422, response.text
    assert field in response.text
    csv_response = await api.get("editor_a", "/api/pfa/ORG_A/matrix.csv?measure=profit")
    assert csv_response.status_code == 422 and "measure" in csv_response.text


async def test_a_member_who_may_not_see_costs_gets_403_and_no_figures(api):
    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = 'viewer_a'").fetchone()[0]
        accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    for path in ("/api/pfa/ORG_A/matrix", "/api/pfa/ORG_A/matrix.csv", "/api/pfa/ORG_A/matrix?by=area&months=3"):
        response = await api.get("viewer_a", path)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "costs_hidden"


async def test_other_organizations_matrix_is_403(api):
    response = await api.get("editor_b", "/api/pfa/ORG_A/matrix")
    assert response.status_code == 403


async def test_drafts_stay_exact_through_edits_discards_pems_changes_and_compaction(api, pems_factory):
    ids = open_records(api.urls, 60)
    await save(api, ids[0], {"area": "Brand New Area", "forecastEnd": "2027-02-14"})
    items = [{"record_id": rid, "changes": {"area": "Batch", "monthlyRate": 1000 + n}} for n, rid in enumerate(ids[1:50])]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts/batch", {"items": items})).status_code == 200
    await save(api, ids[0], {"area": "Second Area", "forecastStart": "2026-06-03"})  # an existing draft moves again
    discarded = await api.post("editor_a", "/api/pfa/ORG_A/drafts/discard", {"record_ids": [ids[5]]})
    assert discarded.json()["discarded"] == [ids[5]]
    assert_matches(await get_matrix(api, "editor_a", "area"), spread_by_day(api.urls, "editor_a", "area", FIRST, MONTHS),
                   FIRST, MONTHS)

    # PEMS changes records under drafts (the drafts' mirror side moves) and stops returning one.
    pems = pems_factory(["ORG_A"], 200)
    pems.control("change", org="ORG_A", count=80, seed=3)
    pems.control("delete", org="ORG_A", ids=[ids[7]])
    assert sync_organization(api.urls.app, pems.client(), "ORG_A", full=True).status == "succeeded"
    for by in ("area", "class"):
        assert_matches(await get_matrix(api, "editor_a", by), spread_by_day(api.urls, "editor_a", by, FIRST, MONTHS),
                       FIRST, MONTHS)

    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        count = "SELECT count(*) FROM vanguard.matrix_draft_delta WHERE user_id = (SELECT id FROM vanguard.users WHERE username = 'editor_a')"
        before = conn.execute(count).fetchone()[0]
        assert before > 0
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = 'editor_a'").fetchone()[0]
        conn.execute(queries.load("matrix")["compact_matrix_deltas"], {"org": "ORG_A", "user_id": user_id})
        assert conn.execute(count).fetchone()[0] <= before
    assert_matches(await get_matrix(api, "editor_a", "area"), spread_by_day(api.urls, "editor_a", "area", FIRST, MONTHS),
                   FIRST, MONTHS)

    with psycopg.connect(api.urls.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET pems_record_id = 1 WHERE organization_id = 'ORG_A'")
    assert (await api.post("editor_a", "/api/pfa/ORG_A/commit", {})).json()["committed"]
    after = await get_matrix(api, "editor_a", "area")
    assert after["drafts_applied"] == 0  # committed drafts leave the matrix as they leave the merged view
    assert_matches(after, spread_by_day(api.urls, "editor_a", "area", FIRST, MONTHS), FIRST, MONTHS)



async def test_moves_already_past_the_threshold_are_compacted_once_not_on_every_read(api):
    """Many drafts over many months leave more compacted rows than the threshold: a read rewrote
    (and committed) all of them every time. Now a read compacts only what was added since."""
    ids = open_records(api.urls, 40)
    items = [{"record_id": rid, "changes": {"area": f"Zone {n % 7}", "monthlyRate": 2000 + n}}
             for n, rid in enumerate(ids)]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts/batch", {"items": items})).status_code == 200
    window = MatrixWindow(FIRST, MONTHS)
    rows = "SELECT ctid::text, xmin::text FROM vanguard.matrix_draft_delta WHERE user_id = %s ORDER BY 1"
    async with await psycopg.AsyncConnection.connect(api.urls.app) as conn:
        user_id = (await (await conn.execute("SELECT id FROM vanguard.users WHERE username = 'editor_a'")).fetchone())[0]
        uncompacted = await cost_matrix(conn, "ORG_A", user_id, "area", window, compact_after=10**9)
        first = await cost_matrix(conn, "ORG_A", user_id, "area", window, compact_after=5)
        compacted = await (await conn.execute(rows, (user_id,))).fetchall()
        assert len(compacted) > 5  # the case at hand: the compacted moves alone exceed the threshold
        second = await cost_matrix(conn, "ORG_A", user_id, "area", window, compact_after=5)
        assert await (await conn.execute(rows, (user_id,))).fetchall() == compacted  # not rewritten
        assert first == second == uncompacted

    # Moves added since the compaction past the threshold: compacted again, figures exact.
    more = [{"record_id": rid, "changes": {"area": "Zone 9", "monthlyRate": 3000 + n}} for n, rid in enumerate(ids[:20])]
    assert (await api.post("editor_a", "/api/pfa/ORG_A/drafts/batch", {"items": more})).status_code == 200
    async with await psycopg.AsyncConnection.connect(api.urls.app) as conn:
        grown = len(await (await conn.execute(rows, (user_id,))).fetchall())
        third = await cost_matrix(conn, "ORG_A", user_id, "area", window, compact_after=5)
        assert len(await (await conn.execute(rows, (user_id,))).fetchall()) < grown
    assert_matches(third, spread_by_day(api.urls, "editor_a", "area", FIRST, MONTHS), FIRST, MONTHS)


def test_doctests():
    assert doctest.testmod(nlq.matrix.service).failed == 0
    assert doctest.testmod(nlq.web.matrix_pages).failed == 0
