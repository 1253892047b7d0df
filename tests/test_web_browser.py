"""The pages in a real browser (Debian's Chromium through Playwright) against the app on loopback.

One module-scoped site: the tests run in file order and the later ones build on what the earlier
ones did (a question asked, then a bulk edit proposed, accepted and committed).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import psycopg
from playwright.sync_api import expect

from store.pems.client import PemsClient
from store.sync.worker import sync_organization
from tests.web_fixtures import ORG, log_in, row_ids


def test_login_refuses_a_wrong_password_then_lands_on_the_chat(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    log_in(page, "planner", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("planner")
    log_in(page, "planner")
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/chat$"))
    expect(page.locator(".user")).to_contain_text("Pat Planner · editor")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["vanguard_session"]["httpOnly"] and cookies["vanguard_session"]["sameSite"] == "Lax"


def test_a_question_streams_sql_explanation_rows_and_a_chart(page, site):
    log_in(page, "planner")
    page.get_by_label(re.compile("Ask a question")).fill("total forecast cost by category")
    page.keyboard.press("Enter")  # Enter sends; Shift+Enter would add a line
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    expect(answer.locator("code.sql")).to_contain_text("GROUP BY")
    expect(answer.locator("code.sql .kw").first).to_be_visible()  # highlighted
    expect(answer.locator(".explanation")).not_to_be_empty()
    with psycopg.connect(site.urls.app) as conn:
        categories = conn.execute("SELECT count(DISTINCT category) FROM vanguard.pfa_mirror "
                                  "WHERE organization_id = %s AND deleted_at IS NULL", (ORG,)).fetchone()[0]
    expect(answer.locator("table.result tbody tr")).to_have_count(categories)
    expect(answer.locator(".summary")).to_have_text(f"{categories} rows")
    assert answer.locator(".chart canvas").evaluate("(c) => Chart.getChart(c).data.labels.length") == categories
    assert answer.locator(".chart").get_attribute("data-kind") == "bar"
    expect(page.locator("#history li")).to_contain_text(["total forecast cost by category"])


def test_a_refused_question_shows_the_reason_where_it_was_asked(page):
    log_in(page, "planner")
    page.get_by_label(re.compile("Ask a question")).fill("what is the meaning of life")
    page.get_by_role("button", name="Ask").click()
    error = page.locator(".answer").first.locator(".error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    page.get_by_role("button", name="Ask").click()  # an empty question is refused in the page
    expect(page.locator("#ask-error")).to_have_text("Type a question first.")


def test_bulk_edit_is_reviewed_accepted_committed_and_synced(page, site):
    log_in(page, "planner")
    page.get_by_label(re.compile("Bulk edit")).check()
    page.get_by_label(re.compile("Ask a question")).fill("extend all concrete equipment by 2 weeks")
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    expect(answer.locator(".bulk")).to_contain_text("changes proposed")
    expect(answer.locator(".bulk table tbody tr").first).to_contain_text("forecastEnd")
    answer.get_by_role("link", name=re.compile(r"Review change set \d+")).click()

    expect(page).to_have_url(re.compile(rf"/o/{ORG}/review/\d+$"))
    rows = page.locator("#review-items input[name=record_id]")
    proposed = rows.count()
    assert proposed >= 2
    rejected_id = rows.first.get_attribute("value")
    rows.first.check()
    page.get_by_role("button", name="Reject selected").click()
    expect(page.get_by_role("status")).to_have_text("Rejected 1 selected change.")
    page.get_by_role("button", name="Accept all").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted")
    expect(page.locator(f'#review-items tr[data-id="{rejected_id}"]').first).to_contain_text("rejected")

    page.goto(f"/o/{ORG}/records?has_draft=true")
    expect(page.locator("#records tbody tr.has-draft")).to_have_count(proposed - 1)
    expect(page.locator('#records td.drafted[data-field="forecast_end"]')).to_have_count(proposed - 1)
    expect(page.locator("#draft-count")).to_have_text(str(proposed - 1))

    page.go_back()
    page.get_by_role("button", name=re.compile("Commit the .* accepted change")).click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits/\d+$"))
    # The page refreshes itself until PEMS has every change.
    expect(page.locator("#commit-counts")).to_have_text(f"{proposed - 1} synced", timeout=45_000)
    record = page.locator("#commit-items tbody tr").first.get_attribute("data-id")
    with psycopg.connect(site.urls.app) as conn:
        ours = conn.execute("SELECT data ->> 'forecastEnd' FROM vanguard.pfa_mirror WHERE organization_id = %s AND id = %s",
                            (ORG, record)).fetchone()[0]
    assert site.sim.snapshot(ORG)[record][0]["forecastEnd"] == ours


def test_editing_one_record_marks_the_field_and_shows_errors_in_place(page):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/records")
    first = page.locator("#records tbody tr").first
    record = first.get_attribute("data-id")
    first.get_by_role("link", name=record).click()
    page.get_by_label("monthly_rate").fill("-5")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#e-monthlyRate")).to_contain_text("negative")
    expect(page.get_by_label("monthly_rate")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("area").fill("Laydown Yard 7")
    page.get_by_label("monthly_rate").fill("")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_have_text("Draft saved.")
    page.goto(f"/o/{ORG}/records?area=Laydown%20Yard%207")
    expect(page.locator('#records td.drafted[data-field="area"]')).to_have_text(["Laydown Yard 7"])
    page.goto(f"/o/{ORG}/records/{record}")
    page.get_by_role("button", name="Discard my draft").click()
    expect(page.get_by_role("status")).to_have_text("Draft discarded.")


def test_records_filters_and_keyset_pages(page):
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records")
    page.get_by_role("combobox", name="Category", exact=True).fill("Earthmoving")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?category=Earthmoving&sort=id$"))  # "any" is simply not sent
    grid = page.locator("#records tbody tr")
    first_page = row_ids(page)
    assert first_page and all(c == "Earthmoving" for c in grid.locator("td:nth-child(2)").all_inner_texts())
    assert len(first_page) == 50
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"[?&]cursor="))
    second = row_ids(page)
    assert second and min(second) > max(first_page)
    assert all(c == "Earthmoving" for c in grid.locator("td:nth-child(2)").all_inner_texts())
    expect(page.get_by_role("link", name="First page")).to_be_visible()


def test_admin_finds_the_audit_entry_and_its_sql(page):
    log_in(page, "admin")
    page.get_by_role("link", name="Audit").click()
    expect(page.locator("#chain-status")).to_contain_text("Ledger chain intact")
    page.get_by_label("From").fill(datetime.now(timezone.utc).date().isoformat())
    page.get_by_label("Text").fill("forecast cost by category")
    page.get_by_role("button", name="Apply").click()
    row = page.locator("#audit tbody tr").first
    expect(row).to_contain_text("planner")
    expect(row).to_contain_text("allowed")
    row.locator("th a").click()  # the entry (the row also links its conversation)
    expect(page.locator("#executed-sql")).to_contain_text("organization_id")
    expect(page.locator("#scope")).to_contain_text(ORG)
    expect(page.locator("#estimate")).not_to_have_text("null")
    expect(page.get_by_role("link", name="CSV")).to_have_count(0)  # export links live on the list page
    page.get_by_role("link", name="← Audit").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_admin_sees_the_sync_monitor_and_can_sync_now(page):
    log_in(page, "admin")
    page.get_by_role("link", name="Sync", exact=True).click()
    section = page.locator(f'.sync-org[data-org="{ORG}"]')
    expect(section.locator(".sync-runs tbody tr").first).to_contain_text("succeeded")
    expect(section).to_contain_text("Write-back")
    page.goto(f"/o/{ORG}/records")
    expect(page.locator("#sync-state")).to_contain_text("last synced")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text("sync of this organization was queued")


def test_a_viewer_sees_no_admin_pages_and_no_edit_controls(page):
    log_in(page, "viewer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Chat", "Records", "Timeline", "Matrix", "KPIs"])
    expect(page.get_by_label(re.compile("Bulk edit"))).to_have_count(0)
    page.goto(f"/o/{ORG}/records")
    expect(page.get_by_role("button", name="Sync now")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Commit"))).to_have_count(0)
    page.locator("#records tbody tr th a").first.click()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    for path in (f"/o/{ORG}/admin/audit", f"/o/{ORG}/admin/sync", f"/o/{ORG}/review"):
        response = page.goto(path)
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_logout_ends_the_session(page):
    log_in(page, "viewer")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"/o/{ORG}/records")
    expect(page).to_have_url(re.compile(r"/login\?next="))


# -- data of any size is text, not layout; everything reachable by keyboard; nothing framable ------

VIEWPORT = 1366


def test_a_3000_character_class_from_pems_keeps_the_grid_within_the_viewport(page, site):
    long_class = "Heavy Lift Crawler Crane " + "X" * 2975  # one unbroken run, as a system can send it
    record = sorted(site.sim.snapshot(ORG))[0]  # the first row of the grid
    with PemsClient(site.pems) as client:  # someone changes it in PEMS; the next sync brings it in
        client.update_record(ORG, record, site.sim.snapshot(ORG)[record][1], {"class": long_class}, "long-class")
        assert sync_organization(site.urls.app, client, ORG).status == "succeeded"
    with psycopg.connect(site.urls.app) as conn:
        stored = conn.execute("SELECT class FROM vanguard.pfa_mirror WHERE organization_id = %s AND id = %s",
                              (ORG, record)).fetchone()[0]
    assert stored == long_class
    log_in(page, "viewer")
    page.goto(f"/o/{ORG}/records")
    cell = page.locator(f'#records tr[data-id="{record}"] td').nth(1)  # columns: id (th), category, class
    expect(cell.locator(".clip")).to_have_attribute("title", long_class)  # the whole value on hover
    assert cell.inner_text().startswith("Heavy Lift Crawler Crane")
    grid_width = page.locator("#records").evaluate("table => table.getBoundingClientRect().width")
    assert grid_width <= VIEWPORT, grid_width
    assert page.locator("#records").evaluate("table => table.parentElement.scrollWidth") <= VIEWPORT
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT
    page.goto(f"/o/{ORG}/records/{record}")  # the record page names the class in its heading
    expect(page.get_by_role("heading", level=1)).to_contain_text("Heavy Lift Crawler Crane")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT


def test_the_scrolling_sql_boxes_are_reachable_by_keyboard(page):
    log_in(page, "admin")
    page.get_by_label(re.compile("Ask a question")).fill("total forecast cost by category")
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    answer.get_by_role("button", name="Copy SQL").focus()
    page.keyboard.press("Tab")
    expect(answer.locator("pre")).to_be_focused()
    page.goto(f"/o/{ORG}/admin/audit")
    page.locator("#audit tbody tr th a").first.click()
    boxes = page.locator("pre")
    assert boxes.count() >= 2  # an attempt and the executed statement
    for index in range(boxes.count()):
        box = boxes.nth(index)
        assert box.get_attribute("tabindex") == "0"
        box.focus()
        expect(box).to_be_focused()


def test_the_api_docs_cannot_be_framed_by_another_site(page, site):
    page.set_content(f'<iframe id="docs" src="{site.url}/docs"></iframe>'
                     f'<iframe id="plain" src="{site.url}/static/app.css"></iframe>')
    # A file without the headers loads in a frame (the check can fail); the docs page does not.
    expect(page.frame_locator("#plain").locator("body")).to_contain_text(":root")
    page.wait_for_timeout(500)
    docs = page.frame(name="docs")
    assert not docs.url.endswith("/docs") and "swagger-ui" not in docs.content()


def _offline(page, site) -> tuple[list[str], list[str]]:
    """Block every request to another host (as on an air-gapped site); collect them and CSP reports."""
    elsewhere, refused = [], []

    def route(request_route):
        if request_route.request.url.startswith(site.url):
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.context.route("**/*", route)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return elsewhere, refused


def test_the_api_docs_render_with_no_access_to_other_hosts(page, site):
    elsewhere, refused = _offline(page, site)
    page.goto("/docs")
    # Long timeouts: the bundles are large and parsing them on a busy 2-core machine takes a while.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PFA Vanguard", timeout=30_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/auth/login").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    page.locator(".opblock-summary", has_text="/api/auth/login").first.click()  # Swagger UI's own scripts run
    expect(page.locator(".opblock.is-open .opblock-section-header").first).to_be_visible(timeout=15_000)
    assert elsewhere == [] and refused == [], (elsewhere, refused)


def test_redoc_renders_with_no_access_to_other_hosts(page, site):
    elsewhere, refused = _offline(page, site)
    page.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile("PFA Vanguard"), level=1)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("/api/auth/login").first).to_be_attached()
    # ReDoc's sidebar links its maker's logo from their CDN: refused by the policy, and only that.
    assert elsewhere == [] and all(r.startswith("Loading the image 'https://cdn.redoc.ly/") for r in refused), refused
