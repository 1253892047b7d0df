"""The records grid in the real browser at 1,366 px: header sort, value pickers, values written for
people, the column chooser, the CSV export of the current filter, and a masked member's grid."""

from __future__ import annotations

import csv
import re

import psycopg
import pytest
from playwright.sync_api import expect

from tests.web_fixtures import ORG, add_masked_member, log_in, row_ids

VIEWPORT = 1366
MONEY = re.compile(r"monthly_rate|purchase_price|plan_cost|forecast_cost|actual_cost|cost_variance|"
                   r"monthly rate|purchase price|\bcost\b|\$", re.IGNORECASE)


@pytest.fixture(scope="module", autouse=True)
def masked_member(site):
    add_masked_member(site, "viewer")


def _ids(site, where: str = "TRUE", order: str = "id", limit: int = 50) -> list[str]:
    with psycopg.connect(site.urls.app) as conn:
        return [r[0] for r in conn.execute(
            f"SELECT id FROM vanguard.pfa_mirror WHERE organization_id = %s AND deleted_at IS NULL AND {where}"
            f" ORDER BY {order} LIMIT %s", (ORG, limit))]


def test_a_header_sorts_on_the_server_both_ways_and_by_keyboard(page, site):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records?source=Rental")
    header = page.locator('#records thead th[data-col="forecast_start"]')
    expect(header).not_to_have_attribute("aria-sort", re.compile("."))
    header.get_by_role("link", name="Forecast start").click()
    expect(page).to_have_url(re.compile(r"\?source=Rental&sort=forecast_start$"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert row_ids(page) == _ids(site, "source = 'Rental'", "forecast_start NULLS LAST, id")
    header.get_by_role("link", name="Forecast start").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert row_ids(page) == _ids(site, "source = 'Rental'", "forecast_start DESC NULLS LAST, id")
    area = page.locator('#records thead th[data-col="area"] a')
    area.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=area$"))
    expect(page.locator('#records thead th[data-col="area"]')).to_have_attribute("aria-sort", "ascending")
    assert row_ids(page) == _ids(site, "source = 'Rental'", "area NULLS LAST, id")
    expect(page.locator("#records thead th[aria-sort]")).to_have_count(1)


def test_the_category_picker_offers_cranes_for_cranes(page, site):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records")
    picker = page.get_by_role("combobox", name="Category", exact=True)
    picker.fill("cranes")
    options = page.get_by_role("listbox", name="Category values").get_by_role("option")
    expect(options).to_have_text(["Cranes"])
    expect(picker).to_have_attribute("aria-expanded", "true")
    options.first.click()
    expect(picker).to_have_value("Cranes")
    expect(picker).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?category=Cranes&sort=id$"))
    cranes = _ids(site, "category = 'Cranes'")
    assert cranes and row_ids(page) == cranes
    page.goto(f"/o/{ORG}/records?category=cranes")  # typed without choosing: the filter is case-insensitive too
    assert row_ids(page) == cranes
    assert set(page.locator('#records td[data-col="category"]').all_inner_texts()) == {"Cranes"}


def test_money_numbers_and_dates_are_written_for_people_under_registry_labels(page, site):
    with psycopg.connect(site.urls.app) as conn:
        record, rate, start = conn.execute(
            "SELECT id, monthly_rate, forecast_start FROM vanguard.pfa_mirror WHERE organization_id = %s"
            " AND monthly_rate >= 1000 ORDER BY id LIMIT 1", (ORG,)).fetchone()
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/records?q={record}")
    headers = page.locator("#records thead th:not([hidden])").all_inner_texts()
    assert headers[:4] == ["Record", "Category", "Class", "Area"]
    assert "Monthly rate" in headers and "Forecast cost" in headers and "On site" in headers
    assert not any("_" in h for h in headers), headers
    row = page.locator(f'#records tr[data-id="{record}"]')
    rate_cell = row.locator('td[data-col="monthly_rate"]')
    expect(rate_cell).to_have_text(f"${rate:,.2f}")
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})+\.\d{2}", rate_cell.inner_text())
    expect(row.locator('td[data-col="forecast_start"]')).to_have_text(f"{start.day} {start:%b %Y}")
    expect(row.locator('td[data-col="is_actualized"]')).to_have_text(re.compile(r"^(yes|no)$"))
    assert rate_cell.evaluate("td => getComputedStyle(td).textAlign") == "right"


def test_the_column_chooser_hides_a_column_and_it_stays_hidden_after_reload(page):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records")
    class_header = page.locator('#records thead th[data-col="class"]')
    expect(class_header).to_be_visible()
    page.locator("#column-chooser summary").click()
    page.get_by_role("checkbox", name="Class", exact=True).uncheck()
    expect(class_header).to_be_hidden()
    expect(page.locator('#records td[data-col="class"]:visible')).to_have_count(0)
    page.get_by_role("checkbox", name="Manufacturer", exact=True).check()
    expect(page.locator('#records thead th[data-col="manufacturer"]')).to_be_visible()
    page.reload()
    expect(page.locator('#records thead th[data-col="class"]')).to_be_hidden()
    expect(page.locator('#records thead th[data-col="manufacturer"]')).to_be_visible()
    href = page.locator("#export-csv").get_attribute("href")
    assert "columns=manufacturer" in href and "columns=class" not in href
    page.goto(f"/o/{ORG}/records?category=Cranes")  # another page of the grid keeps the choice
    expect(page.locator('#records thead th[data-col="class"]')).to_be_hidden()
    page.locator("#column-chooser summary").click()
    page.get_by_role("button", name="Default columns").click()
    expect(page.locator('#records thead th[data-col="class"]')).to_be_visible()
    expect(page.locator('#records thead th[data-col="manufacturer"]')).to_be_hidden()


def test_every_column_shown_still_leaves_the_page_within_1366_px(page):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/records")
    page.locator("#column-chooser summary").click()
    for box in page.locator("[data-column-toggle]:not([disabled])").all():
        box.check()
    page.locator("#column-chooser summary").click()
    expect(page.locator('#records thead th[data-col="cost_variance"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("box => box.getBoundingClientRect().right") <= VIEWPORT
    assert wrap.evaluate("box => getComputedStyle(box).overflowX") == "auto"  # the table scrolls in its box


def test_the_export_link_carries_the_filter_and_sort(page, site, tmp_path):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records?category=cranes&sort=-forecast_end")
    link = page.get_by_role("link", name="Export CSV")
    href = link.get_attribute("href")
    assert href.startswith(f"/api/pfa/{ORG}/export?")
    assert "category=cranes" in href and "sort=-forecast_end" in href and "format=csv" in href
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "export.csv"
    download.value.save_as(target)
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == _ids(site, "category = 'Cranes'", "forecast_end DESC NULLS LAST, id", 10_000)
    assert list(rows[0]) == page.locator("[data-column-toggle]:checked").evaluate_all("bs => bs.map(b => b.value)")


def test_a_masked_member_sees_no_money_columns_and_cannot_choose_them(page, tmp_path):
    log_in(page, "foreman")
    page.goto(f"/o/{ORG}/records")
    page.evaluate("localStorage.setItem('vanguard.records.columns', "
                  "JSON.stringify(['id', 'category', 'monthly_rate', 'forecast_cost']))")
    page.reload()
    headers = page.locator("#records thead th").all_inner_texts()
    assert "Category" in headers and not MONEY.search(" ".join(headers)), headers
    page.locator("#column-chooser summary").click()
    chooser = page.locator("#column-chooser").inner_text()
    assert "Forecast start" in chooser and not MONEY.search(chooser), chooser
    assert page.locator('[data-col="monthly_rate"], [data-col="forecast_cost"], [value="monthly_rate"]').count() == 0
    assert not MONEY.search(page.locator("#records").inner_text())
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / "masked.csv"
    download.value.save_as(target)
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,category") and not MONEY.search(header), header
