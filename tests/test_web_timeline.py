"""The timeline page in the real browser: bars grouped and zoomed, an editor shifting a forecast
(drag, and the form by keyboard) into a draft the database holds, rule errors where they belong,
a viewer who cannot shift, and a member who may not see costs meeting no money."""

from __future__ import annotations

import re
from datetime import date, timedelta

import psycopg
import pytest
from playwright.sync_api import expect

from tests.web_fixtures import ORG, add_masked_member, log_in

MONEY = re.compile(r"monthly_rate|purchase_price|plan_cost|forecast_cost|actual_cost|cost_variance|monthlyRate|"
                   r"purchasePrice|\bcost\b", re.IGNORECASE)


@pytest.fixture(scope="module", autouse=True)
def masked_member(site):
    add_masked_member(site, "editor")


def working_draft(site, username: str, record_id: str) -> dict | None:
    with psycopg.connect(site.urls.app) as conn:
        row = conn.execute(
            "SELECT d.delta FROM vanguard.pfa_draft d JOIN vanguard.users u ON u.id = d.user_id"
            " WHERE d.organization_id = %s AND u.username = %s AND d.record_id = %s AND d.state = 'draft'",
            (ORG, username, record_id)).fetchone()
    return row[0] if row else None


def forecast(site, record_id: str) -> tuple[date, date]:
    with psycopg.connect(site.urls.app) as conn:
        return conn.execute("SELECT forecast_start, forecast_end FROM vanguard.pfa_mirror"
                            " WHERE organization_id = %s AND id = %s", (ORG, record_id)).fetchone()


def first_bar(page):
    bar = page.locator(".tl-row rect.forecast").first
    expect(bar).to_be_attached()
    return bar


def grab_point(page, bar) -> tuple[float, float]:
    """A point on the visible part of a bar: right of the sticky labels, inside the scrolling area."""
    bar.scroll_into_view_if_needed()
    box, area = bar.bounding_box(), page.locator(".tl-scroll").bounding_box()
    left, right = max(box["x"], area["x"] + 270), min(box["x"] + box["width"], area["x"] + area["width"] - 20)
    assert right > left, (box, area)
    return (left + right) / 2, box["y"] + box["height"] / 2


def test_the_timeline_is_linked_from_the_navigation_groups_and_zooms(page, site):
    log_in(page, "viewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Timeline").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/timeline$"))
    expect(page.locator(".tl-row").first).to_be_visible()
    with psycopg.connect(site.urls.app) as conn:
        first_category, total = conn.execute(
            "SELECT min(category), count(*) FROM vanguard.pfa_mirror WHERE organization_id = %s AND deleted_at IS NULL",
            (ORG,)).fetchone()
    expect(page.locator(".tl-group").first).to_have_text(first_category)
    expect(page.locator("#tl-count")).to_have_text(f"{total} records")
    row = page.locator(".tl-row").first
    assert row.locator("rect.plan").count() == 1 and row.locator("rect.forecast").count() == 1
    expect(page.locator(".tl-axis .tick-label").first).to_have_text(re.compile(r"^[A-Z][a-z]{2} \d{4}$"))
    page.get_by_role("button", name="Quarter").click()
    expect(page.locator(".tl-axis .tick-label").first).to_have_text(re.compile(r"^Q[1-4] \d{4}$"))
    expect(page).to_have_url(re.compile(r"zoom=quarter"))
    page.get_by_role("button", name="Year").click()
    expect(page.locator(".tl-axis .tick-label").first).to_have_text(re.compile(r"^\d{4}$"))
    # an open actual runs to today
    page.goto(f"/o/{ORG}/timeline?is_actualized=true&zoom=year")
    open_actual = page.locator("rect.actual.open").first
    expect(open_actual).to_be_attached()
    today = page.locator(".tl-row line.today").first
    right = float(open_actual.get_attribute("x")) + float(open_actual.get_attribute("width"))
    assert abs(right - float(today.get_attribute("x1"))) <= 1


def test_the_timeline_shares_the_grids_filters_and_groups_by_area(page, site):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/timeline")
    page.get_by_label("Source").select_option("Purchase")
    page.get_by_label("Group by").select_option("area")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"source=Purchase.*group=area"))
    with psycopg.connect(site.urls.app) as conn:
        (first_area, purchases), = conn.execute(
            "SELECT min(area), count(*) FROM vanguard.pfa_mirror WHERE organization_id = %s AND deleted_at IS NULL"
            " AND source = 'Purchase'", (ORG,)).fetchall()
    expect(page.locator("#tl-count")).to_have_text(f"{purchases} records")
    expect(page.locator(".tl-group").first).to_have_text(first_area)
    grid = page.get_by_role("link", name="These records in the grid")
    assert grid.get_attribute("href").endswith("/records?source=Purchase")
    grid.click()
    expect(page.locator("#records tbody tr")).to_have_count(min(50, purchases))
    assert set(page.locator("#records tbody td:nth-child(5)").all_inner_texts()) == {"Purchase"}


def test_an_editor_drags_a_forecast_and_the_draft_holds_the_new_dates(page, site):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/timeline?is_actualized=false&zoom=month")
    bar = first_bar(page)
    record = bar.get_attribute("data-forecast")
    start, end = forecast(site, record)
    assert working_draft(site, "planner", record) is None
    x, y = grab_point(page, bar)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=5)
    page.mouse.move(x + 120, y, steps=5)  # 4 px a day at month zoom: 30 days later
    page.mouse.up()
    expect(page.locator("#tl-status")).to_contain_text(f"Draft saved: {record}")
    shifted = (start + timedelta(days=30)).isoformat(), (end + timedelta(days=30)).isoformat()
    assert working_draft(site, "planner", record) == {"forecastStart": shifted[0], "forecastEnd": shifted[1]}
    row = page.locator(f'.tl-row[data-id="{record}"]')
    expect(row.locator("rect.forecast.drafted")).to_have_count(1)
    expect(row.locator("rect.ghost")).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("draft")
    page.reload()  # the draft is the forecast bar, PEMS's forecast its ghost, from the server
    row = page.locator(f'.tl-row[data-id="{record}"]')
    expect(row.locator("rect.ghost")).to_have_count(1)
    ghost, drafted = row.locator("rect.ghost"), row.locator("rect.forecast.drafted")
    assert float(drafted.get_attribute("x")) - float(ghost.get_attribute("x")) == 120
    assert "PEMS: " + start.isoformat() in drafted.locator("title").text_content()


def test_the_form_shifts_a_forecast_by_keyboard_and_shows_rule_errors_at_its_fields(page, site):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/timeline?is_actualized=false&has_draft=false&zoom=year")
    bar = page.locator(".tl-row rect.forecast").nth(1)
    record = bar.get_attribute("data-forecast")
    bar.focus()
    page.keyboard.press("Enter")
    form = page.get_by_role("form", name=re.compile(f"Shift forecast of {record}"))
    expect(form).to_be_visible()
    expect(form.get_by_label("Forecast start")).to_be_focused()
    form.get_by_label("Forecast start").fill("2031-05-10")
    form.get_by_label("Forecast end").fill("2031-05-01")
    page.keyboard.press("Enter")
    expect(page.locator("#tl-err-forecastEnd")).to_contain_text("before forecast start")
    expect(form.get_by_label("Forecast end")).to_have_attribute("aria-invalid", "true")
    assert working_draft(site, "planner", record) is None  # nothing saved
    form.get_by_label("Forecast end").fill("2031-09-30")
    form.get_by_role("button", name="Save draft").click()
    expect(form).to_be_hidden()
    expect(page.locator("#tl-status")).to_contain_text(f"Draft saved: {record} forecast 2031-05-10 to 2031-09-30")
    assert working_draft(site, "planner", record) == {"forecastStart": "2031-05-10", "forecastEnd": "2031-09-30"}
    expect(page.locator(f'[data-forecast="{record}"]')).to_be_focused()  # back where the user was


def test_a_drag_that_breaks_a_rule_says_why_at_the_bar_and_saves_nothing(page, site):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/timeline?is_actualized=true&zoom=month")
    bar = first_bar(page)
    record = bar.get_attribute("data-forecast")
    x, y = grab_point(page, bar)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 40, y, steps=5)
    page.mouse.up()
    error = page.locator(f'.tl-row[data-id="{record}"] .tl-error')
    expect(error).to_contain_text("locked: the equipment is on site")
    assert working_draft(site, "planner", record) is None


def test_a_viewer_sees_the_bars_but_cannot_shift_them(page, site):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/timeline?is_actualized=false")
    bar = first_bar(page)
    record = bar.get_attribute("data-forecast")
    assert bar.get_attribute("tabindex") is None and bar.get_attribute("role") is None
    assert page.locator("#tl-shift").count() == 0
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    x, y = grab_point(page, bar)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y, steps=5)
    page.mouse.up()
    bar.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert posts == [] and working_draft(site, "viewer", record) is None
    # and the drafts API refuses the viewer's session even when asked directly
    status = page.evaluate("""async (record) => (await fetch(location.pathname.replace(/\\/o\\/([^/]+)\\/timeline/,
        '/api/pfa/$1/drafts'), {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': Vanguard.csrf()},
        body: JSON.stringify({record_id: record, changes: {forecastEnd: '2031-01-01'}})})).status""", record)
    assert status == 403 and working_draft(site, "viewer", record) is None


def test_a_member_who_may_not_see_costs_meets_no_money_on_the_timeline(page, site):
    log_in(page, "foreman")
    bodies = []
    page.on("response", lambda r: bodies.append(r.text()) if "/timeline/bars" in r.url else None)
    page.goto(f"/o/{ORG}/timeline?is_actualized=false")
    bar = first_bar(page)
    expect(page.locator("#tl-status")).to_contain_text("records loaded")
    assert bodies and not any(MONEY.search(b.replace('"sees_costs"', "")) for b in bodies)
    assert not MONEY.search(page.locator("main").inner_text())
    titles = " ".join(page.locator(".tl-row title").all_text_contents())
    assert "Forecast " in titles and not MONEY.search(titles), titles[:300]
    record = bar.get_attribute("data-forecast")  # a masked editor still shifts dates
    bar.focus()
    page.keyboard.press("Enter")
    page.get_by_label("Forecast end").fill("2031-12-31")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#tl-status")).to_contain_text(f"Draft saved: {record}")
    assert working_draft(site, "foreman", record)["forecastEnd"] == "2031-12-31"
    titles = page.locator(f'.tl-row[data-id="{record}"] title').all_text_contents()
    assert not MONEY.search(" ".join(titles)), titles


def test_an_ordinary_planner_sees_the_forecast_cost_in_the_bar(page):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/timeline")
    expect(first_bar(page).locator("title")).to_contain_text("forecast cost")
