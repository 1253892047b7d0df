"""The chat's Stop button in a real browser: it cancels the request, and the server then cancels
what the answer was waiting for — the statement in PostgreSQL, or the call to the model."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from playwright.sync_api import expect

from nlq.app import create_app
from nlq.config import Settings
from store.pems.background import BackgroundServer
from tests.api_fixtures import PASSWORD, seed
from tests.fake_llm import FakeLlm, Scripted
from tests.web_fixtures import log_in

# 400^4 combinations: minutes of work, so only a cancellation ends it within the test.
HEAVY = ('{"sql": "SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c, pfa_merged d'
         ' WHERE a.area <> d.class"}')
ACTIVE_READER = ("SELECT count(*) FROM pg_stat_activity WHERE usename = 'vanguard_reader' AND state = 'active'"
                 " AND query ~* '^(DECLARE|FETCH)'")


@dataclass
class ChatSite:
    url: str
    urls: object
    llm: FakeLlm


@pytest.fixture(scope="module")
def site(database_factory) -> Iterator[ChatSite]:
    """The app with the OpenAI-compatible test server as its model (this module's own site)."""
    urls = database_factory()
    seed(urls.app, records=400)
    llm = FakeLlm()
    llm_server = BackgroundServer(llm.app())
    llm.base_url = llm_server.start() + "/v1"
    app = create_app(Settings(llm_base_url=llm.base_url, llm_api_key="test", query_max_cost=1e15,
                              query_max_estimated_rows=1e15, query_timeout_seconds=120), urls)
    web = BackgroundServer(app, lifespan="on")
    try:
        yield ChatSite(web.start(), urls, llm)
    finally:
        web.stop()
        llm_server.stop()


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _active_readers(site: ChatSite) -> int:
    with psycopg.connect(site.urls.admin, autocommit=True) as conn:
        return conn.execute(ACTIVE_READER).fetchone()[0]


def _audit_codes(site: ChatSite) -> list[str | None]:
    with psycopg.connect(site.urls.app) as conn:
        return [r[0] for r in conn.execute("SELECT error_code FROM vanguard.nlq_audit ORDER BY id").fetchall()]


def _ask(page, question: str):
    log_in(page, "editor_a", PASSWORD)
    expect(page).to_have_url(re.compile(r"/o/ORG_A/chat$"))
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    page.get_by_label(re.compile("Ask a question")).fill(question)
    page.keyboard.press("Enter")
    return page.locator(".answer").first


def test_stop_cancels_the_running_statement_in_postgresql(page, site):
    site.llm.answer(HEAVY)
    answer = _ask(page, "count every combination")
    expect(answer.locator(".stage")).to_have_text("Running the query…")
    assert _until(lambda: _active_readers(site) == 1), "the heavy statement never started"
    page.get_by_role("button", name="Stop").click()
    expect(answer.locator(".stage")).to_have_text("Stopped: the question and its query were cancelled.")
    assert _until(lambda: _active_readers(site) == 0), "the statement kept running after Stop"
    assert _until(lambda: _audit_codes(site)[-1:] == ["cancelled"])
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()
    expect(answer.locator(".error")).to_be_hidden()
    expect(page.locator("#history li").first).to_contain_text("stopped")


def test_stop_cancels_the_call_to_the_model(page, site):
    asked = len(site.llm.requests)
    site.llm.answer(Scripted(content=HEAVY, delay=60))
    answer = _ask(page, "count every combination, slowly")
    expect(answer.locator(".stage")).to_have_text("Writing the SQL…")
    assert _until(lambda: len(site.llm.requests) > asked), "the model was never asked"
    page.get_by_role("button", name="Stop").click()
    expect(answer.locator(".stage")).to_have_text("Stopped: the question and its query were cancelled.")
    assert _until(lambda: asked in site.llm.hung_up), "the request to the model kept running after Stop"
    assert len(site.llm.requests) == asked + 1  # no retry, no repair after the user stopped
    assert _until(lambda: _audit_codes(site)[-1:] == ["cancelled"])
