"""Rating and verified examples in a real browser: a planner rates an answer down in the chat, an
admin finds it in the down-rated list and marks a corrected version as a verified example."""

from __future__ import annotations

import re

import psycopg
from playwright.sync_api import expect

from tests.web_fixtures import ORG, log_in

QUESTION = "how many cranes are rented?"
CORRECTED = "SELECT count(*) AS cranes FROM pfa_merged WHERE category = 'Cranes' AND source = 'Rental' AND NOT is_discontinued"


def test_a_down_rated_answer_is_reviewed_and_corrected_into_a_verified_example(page, site):
    log_in(page, "planner")
    page.get_by_label(re.compile("Ask a question")).fill(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    down = answer.get_by_role("button", name="Rate this answer down (wrong)")
    up = answer.get_by_role("button", name="Rate this answer up (right)")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    down.click()  # changed: one rating per answer, the last choice counts
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(answer.locator(".rating-note")).to_have_text("Thanks: rated down. An admin will review it.")
    with psycopg.connect(site.urls.app) as conn:
        assert conn.execute("SELECT rating FROM vanguard.answer_ratings").fetchall() == [("down",)]
    page.get_by_role("button", name="Log out").click()

    log_in(page, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Examples").click()
    expect(page.locator("#examples tbody")).to_contain_text("No verified examples yet")
    page.get_by_role("link", name="Down-rated answers").click()
    row = page.locator("#down-rated tbody tr").first
    expect(row).to_contain_text(QUESTION)
    expect(row).to_contain_text("planner")
    expect(row.locator("code.sql")).to_contain_text("pfa_merged")
    row.get_by_role("link", name="Mark a corrected version as a verified example").click()

    expect(page.get_by_label("Question")).to_have_value(QUESTION)
    expect(page.get_by_label("SQL")).to_have_value(re.compile("pfa_merged"))
    page.get_by_label("SQL").fill("SELECT * FROM vanguard.users")
    page.get_by_role("button", name="Save verified example").click()
    expect(page.get_by_role("alert")).to_contain_text("The guardrails refuse this statement")
    expect(page.get_by_label("SQL")).to_have_value("SELECT * FROM vanguard.users")  # kept, not lost
    page.get_by_label("SQL").fill(CORRECTED)
    page.get_by_role("button", name="Save verified example").click()

    expect(page.get_by_role("status")).to_contain_text("Verified example saved")
    example = page.locator("#examples tbody tr").first
    expect(example).to_contain_text(QUESTION)
    expect(example.locator("code.sql")).to_contain_text("NOT is_discontinued")
    with psycopg.connect(site.urls.app) as conn:
        (stored,) = conn.execute("SELECT e.sql, e.source_audit_id = r.audit_id FROM vanguard.golden_examples AS e,"
                                 " vanguard.answer_ratings AS r").fetchall()
    assert stored == (CORRECTED, True)
    page.get_by_role("link", name="Down-rated answers").click()
    expect(page.locator("#down-rated tbody tr").first.get_by_role("link", name=re.compile(r"^#\d+$"))).to_have_count(1)
