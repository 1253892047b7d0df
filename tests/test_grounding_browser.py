"""The chat page's clarification buttons in a real browser (Debian's Chromium through Playwright):
the app on loopback with the project's OpenAI-compatible test server as its model."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from playwright.sync_api import expect

from nlq.app import create_app
from nlq.config import Settings
from store.pems.background import BackgroundServer
from tests.api_fixtures import PASSWORD, seed
from tests.fake_llm import Scripted, is_explanation
from tests.web_fixtures import log_in


@pytest.fixture
def chat(db, fake_llm, browser):
    seed(db.app, records=300)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="test"), db)
    server = BackgroundServer(app, lifespan="on")
    url = server.start()
    context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        server.stop()


def test_a_clarification_shows_the_choices_and_a_choice_re_runs_the_question(db, fake_llm, chat):
    def respond(body):
        if is_explanation(body):
            return Scripted(chunks=["Counts the records in the area."])
        return json.dumps({"sql": "SELECT count(*) AS n FROM pfa_merged WHERE area = 'Silo'"})

    fake_llm.responder = respond
    page = chat
    log_in(page, "editor_a", PASSWORD)
    expect(page).to_have_url(re.compile(r"/o/ORG_A/chat$"))
    page.get_by_label(re.compile("Ask a question")).fill("how many items in the silo?")
    page.keyboard.press("Enter")
    first = page.locator(".answer").first
    expect(first.locator(".stage")).to_have_text("Waiting for your choice.")
    expect(first.locator(".clarify")).to_contain_text("'Silo' matches several stored values of area")
    expect(first.locator(".clarify button")).to_have_text(["Silo 1", "Silo 2", "Silo 3", "Silo 4", "Silo 5"])
    expect(first.locator("table.result tbody tr")).to_have_count(0)
    first.get_by_role("button", name="Silo 4").click()
    second = page.locator(".answer").first
    expect(second.locator(".stage")).to_have_text("Done.")
    expect(page.locator(".answer")).to_have_count(2)
    expect(second.locator(".grounding")).to_have_text("Matched to stored values: 'Silo' → area 'Silo 4'.")
    expect(second.locator("code.sql")).to_contain_text("'Silo 4'")
    with psycopg.connect(db.app) as conn:
        wanted = conn.execute("SELECT count(*) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A'"
                              " AND area = 'Silo 4'").fetchone()[0]
    expect(second.locator("table.result tbody td")).to_have_text([f"{wanted:,}"])
    expect(page.locator(".answer").nth(1).locator(".clarify button").first).to_be_disabled()  # asked once
    # The question was asked of the model twice (the choice re-ran it); the choice itself went to the
    # service only (the egress canary tests in test_ask_api.py prove that no stored value is sent).
    assert len([r for r in fake_llm.requests if not is_explanation(r)]) == 2
