"""The cost matrix and KPI pages in the real browser: pickers, totals, CSV, a draft showing up as a
change against PEMS, and a member who may not see costs meeting a refusal and counts only."""

from __future__ import annotations

import csv
import re

import psycopg
import pytest
from playwright.sync_api import expect

from tests.web_fixtures import ORG, add_masked_member, log_in

MONEY_HEADERS = re.compile(r"cost|rate|price|variance", re.IGNORECASE)


@pytest.fixture(scope="module", autouse=True)
def masked_member(site):
    add_masked_member(site, "editor")


def exact(cells) -> list[float]:
    """The exact figures behind formatted cells (each cell's title)."""
    return [float(c.get_attribute("title")) for c in cells.all()]


def open_record(site) -> tuple[str, str]:
    """A rental a draft may change, and the month its forecast starts."""
    with psycopg.connect(site.urls.app) as conn:
        return conn.execute("SELECT id, to_char(forecast_start, 'YYYY-MM') FROM vanguard.pfa_mirror WHERE organization_id = %s AND source = 'Rental'"
                            " AND NOT is_actualized AND NOT is_discontinued ORDER BY id LIMIT 1", (ORG,)).fetchone()


def test_the_matrix_adds_up_and_its_pickers_and_csv_work(page):
    log_in(page, "viewer")
    page.get_by_role("link", name="Matrix", exact=True).click()
    table = page.locator("#matrix")
    expect(table).to_be_visible()
    assert page.locator("header nav a[aria-current=page]").inner_text() == "Matrix"
    expect(table.locator("thead th")).to_have_count(14)  # the group, 12 months, the total
    rows = table.locator("tbody tr")
    assert rows.count() > 1
    row_totals = exact(table.locator("tbody td.total"))
    grand = exact(table.locator("tfoot td.total"))[0]
    assert grand == pytest.approx(sum(row_totals), abs=0.05) and grand > 0
    first_row = exact(rows.first.locator("td"))
    assert first_row[-1] == pytest.approx(sum(first_row[:-1]), abs=0.05)
    expect(page.locator("#matrix-drafts")).to_contain_text("no drafts")

    page.get_by_label("Rows").select_option("area")
    page.get_by_label("Show").select_option("plan")
    page.get_by_label("From month").fill("2026-01")
    page.get_by_label("Months").select_option("6")
    page.get_by_role("button", name="Show").click()
    expect(table.locator("thead th").first).to_have_text("Area")
    expect(table.locator("thead th")).to_have_count(8)
    expect(table.locator("thead th").nth(1)).to_have_text("Jan 2026")
    assert table.get_attribute("data-measure") == "plan"
    page.locator("#matrix-later").click()
    expect(table.locator("thead th").nth(1)).to_have_text("Jul 2026")
    shown = [r.locator("th").inner_text() for r in table.locator("tbody tr").all()]

    with page.expect_download() as download:
        page.locator("#matrix-csv").click()
    assert download.value.suggested_filename == f"{ORG}-plan-cost-by-area-2026-07-6m.csv"
    with open(download.value.path(), encoding="utf-8") as f:
        table_csv = list(csv.reader(f))
    assert table_csv[0] == ["area", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "total"]
    assert [r[0] for r in table_csv[1:-1]] == shown
    assert float(table_csv[-1][-1]) == pytest.approx(exact(table.locator("tfoot td.total"))[0], abs=0.01)

    page.goto(f"/o/{ORG}/matrix?months=99")
    expect(page.locator("[role=alert]")).to_contain_text("1 to 36 months")


def test_a_draft_moves_the_matrix_and_shows_on_the_kpi_page_as_a_change(page, site):
    record_id, month = open_record(site)
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/kpis")
    expect(page.locator("#kpi-drafts")).to_contain_text("change nothing")
    before_cards = page.locator('[data-kpi="forecast_cost"] .kpi-value').inner_text()
    page.goto(f"/o/{ORG}/matrix?from={month}&months=6")
    before = exact(page.locator("#matrix tfoot td.total"))[0]

    page.goto(f"/o/{ORG}/records/{record_id}")
    page.locator("[name=monthlyRate]").fill("987654")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".notice, [role=status]").first).to_contain_text("Draft saved")

    page.goto(f"/o/{ORG}/matrix?from={month}&months=6")
    expect(page.locator("#matrix-drafts")).to_contain_text("With your 1 draft applied")
    assert exact(page.locator("#matrix tfoot td.total"))[0] > before

    page.get_by_role("link", name="KPIs", exact=True).click()
    expect(page.locator("#kpi-drafts")).to_contain_text("Your drafts change these figures")
    card = page.locator('[data-kpi="forecast_cost"]')
    expect(card.locator(".kpi-change")).to_contain_text("vs PEMS")
    assert card.locator(".kpi-change").inner_text().startswith("+")
    assert card.locator(".kpi-value").inner_text() != before_cards
    expect(page.locator('[data-kpi="records"] .kpi-change')).to_have_text("as in PEMS")
    changed = page.locator("#kpi-groups tbody tr.has-draft")
    expect(changed).to_have_count(1)
    assert changed.locator("td.drafted").count() >= 2  # forecast cost and variance moved

    log_in(page, "admin")  # drafts are private: the admin sees PEMS
    page.goto(f"/o/{ORG}/kpis")
    expect(page.locator("#kpi-drafts")).to_contain_text("change nothing")
    assert page.locator('[data-kpi="forecast_cost"] .kpi-value').inner_text() == before_cards


def test_a_member_who_may_not_see_costs_gets_a_refusal_and_counts_only(page):
    log_in(page, "foreman")
    expect(page.locator("header nav")).to_contain_text("KPIs")
    expect(page.get_by_role("link", name="Matrix", exact=True)).to_have_count(0)
    response = page.goto(f"/o/{ORG}/matrix")
    assert response.status == 403
    expect(page.locator("#matrix-refused [role=alert]")).to_contain_text("hidden for your membership")
    expect(page.locator("#matrix")).to_have_count(0)
    assert page.request.get(f"/api/pfa/{ORG}/matrix.csv").status == 403

    page.get_by_role("link", name="Open the KPI page").click()
    expect(page.locator("#kpi-masked")).to_contain_text("record counts only")
    cards = page.locator(".kpi-cards .kpi")
    expect(cards).to_have_count(1)
    assert cards.first.get_attribute("data-kpi") == "records"
    headers = " ".join(page.locator("#kpi-groups thead th").all_inner_texts())
    assert "Records" in headers and not MONEY_HEADERS.search(headers), headers
    body = page.locator("#kpi-groups").inner_text()
    assert int(page.locator('[data-kpi="records"] .kpi-value').inner_text().replace(",", "")) > 0
    assert not re.search(r"\d{1,3}(,\d{3}){2,}", body), body  # no figure in the millions: only counts
