"""Conversations in a real browser (Debian's Chromium through Playwright): ask, follow up, reload,
reopen, continue; the answers are redrawn from the stored rows each time."""

from __future__ import annotations

import re

import psycopg
from playwright.sync_api import expect

from tests.web_fixtures import ORG, log_in


def ask(page, question: str) -> None:
    page.get_by_label(re.compile("Ask a question")).fill(question)
    page.keyboard.press("Enter")
    expect(page.locator(".answer").first.locator(".stage")).to_have_text("Done.")


def test_a_conversation_survives_a_reload_and_reopens_with_every_answer(page, site):
    log_in(page, "planner")
    expect(page.locator("#conversation-title")).to_have_text("New conversation")
    ask(page, "total forecast cost by category")
    expect(page).to_have_url(re.compile(r"[?&]c=[0-9a-f-]{36}"))
    conversation = re.search(r"c=([0-9a-f-]{36})", page.url).group(1)
    ask(page, "as a chart by month")
    monthly = page.locator(".answer").first
    expect(monthly.locator(".explanation")).to_contain_text("Follow-up of \u201ctotal forecast cost by category\u201d")
    expect(monthly.locator(".chart")).to_have_attribute("data-kind", "line")
    with psycopg.connect(site.urls.app) as conn:
        months = conn.execute("SELECT count(DISTINCT date_trunc('month', forecast_start)) + bool_or(forecast_start IS NULL)::int"
                              " FROM vanguard.pfa_mirror WHERE organization_id = %s AND deleted_at IS NULL",
                              (ORG,)).fetchone()[0]
        categories = conn.execute("SELECT count(DISTINCT category) FROM vanguard.pfa_mirror "
                                  "WHERE organization_id = %s AND deleted_at IS NULL", (ORG,)).fetchone()[0]

    def both_answers_are_shown():
        answers = page.locator(".answer")
        expect(answers).to_have_count(2)
        expect(answers.nth(0).locator(".q")).to_have_text("as a chart by month")
        expect(answers.nth(0).locator("table.result tbody tr")).to_have_count(months)
        expect(answers.nth(0).locator(".chart")).to_have_attribute("data-kind", "line")
        expect(answers.nth(1).locator(".q")).to_have_text("total forecast cost by category")
        expect(answers.nth(1).locator("table.result tbody tr")).to_have_count(categories)
        expect(answers.nth(1).locator(".chart")).to_have_attribute("data-kind", "bar")
        assert answers.nth(1).locator(".chart canvas").evaluate("(c) => Chart.getChart(c).data.labels.length") == categories
        expect(answers.nth(1).locator("code.sql")).to_contain_text("GROUP BY")
        expect(answers.nth(1).locator(".summary")).to_have_text(f"{categories} rows")

    page.reload()
    both_answers_are_shown()
    expect(page.locator("#conversation-title")).to_have_text("total forecast cost by category")

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".answer")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"[?&]c="))
    page.locator("#conversations").get_by_role("button", name="total forecast cost by category", exact=True).click()
    both_answers_are_shown()
    expect(page).to_have_url(re.compile(rf"c={conversation}"))

    ask(page, "per area instead")  # the reopened conversation continues
    expect(page.locator(".answer")).to_have_count(3)
    expect(page.locator(".answer").first.locator(".explanation")).to_contain_text("\u2018per area\u2019 in place of")
    with psycopg.connect(site.urls.app) as conn:
        assert conn.execute("SELECT count(*), max(turn_count) FROM vanguard.conversations").fetchone() == (1, 3)


def test_another_user_sees_none_of_it(page, site):
    log_in(page, "viewer")
    expect(page.locator("#conversations-empty")).to_be_visible()
    with psycopg.connect(site.urls.app) as conn:
        conversation = conn.execute("SELECT id::text FROM vanguard.conversations").fetchone()[0]
    page.goto(f"/o/{ORG}/chat?c={conversation}")
    expect(page.locator("#conversations-empty")).to_be_visible()
    expect(page.locator(".answer")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"[?&]c="))


def test_the_audit_page_links_each_entry_to_its_conversation(page, site):
    with psycopg.connect(site.urls.app) as conn:
        conversation = conn.execute("SELECT id::text FROM vanguard.conversations").fetchone()[0]
    log_in(page, "admin")
    page.goto(f"/o/{ORG}/admin/audit")
    links = page.locator("#audit a.conversation")
    expect(links).to_have_count(3)
    links.first.click()
    expect(page).to_have_url(re.compile(rf"conversation={conversation}"))
    expect(page.locator("#audit tbody tr")).to_have_count(3)
    page.locator("#audit tbody tr").first.locator("th a").click()
    expect(page.locator("#conversation")).to_have_text(conversation)
