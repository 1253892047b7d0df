"""The whole product on loopback for browser tests: PostgreSQL, the PEMS simulator, the app with its
sync worker, and Debian's Chromium driven by Playwright. A failing browser test leaves a screenshot
in `test-artifacts/`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from nlq.app import create_app
from nlq.auth.passwords import hash_password
from nlq.config import Settings
from store import accounts, mirror
from store.pems.background import BackgroundServer
from store.pems.client import PemsClient, PemsSettings
from store.pems.simulator import PemsSimulator
from store.sync.worker import sync_organization

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
WEB_PASSWORD = "browser-test-password"
WEB_USERS = {"admin": ("admin", "Ada Admin"), "planner": ("editor", "Pat Planner"), "viewer": ("viewer", "Vic Viewer")}
ORG = "HOLNG"


@dataclass
class Site:
    url: str
    urls: object
    sim: PemsSimulator
    pems: PemsSettings


def chromium_path() -> str:
    """Debian's Chromium; missing is a failure in CI (`.ci/run` installs it), a visible skip elsewhere."""
    path = shutil.which("chromium")
    if path:
        return path
    message = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def site(database_factory) -> Iterator[Site]:
    yield from run_site(database_factory, 300)


def run_site(database_factory, records: int) -> Iterator[Site]:
    """The site on a fresh database whose organization has `records` records in PEMS."""
    urls = database_factory()
    sim = PemsSimulator([ORG], records, seed=7)
    sim_server = BackgroundServer(sim.app())
    sim_url = sim_server.start()
    pems = PemsSettings(sim_url, api_key=sim.api_key, page_size=1000)
    password = hash_password(WEB_PASSWORD)
    with psycopg.connect(urls.app, autocommit=True) as conn:
        accounts.upsert_organization(conn, ORG, "Demo project")
        for username, (role, name) in WEB_USERS.items():
            accounts.upsert_membership(conn, accounts.insert_user(conn, username, password, name), ORG, role)
    with PemsClient(pems) as client:
        assert sync_organization(urls.app, client, ORG, full=True).status == "succeeded"
    with psycopg.connect(urls.app, autocommit=True) as conn:
        mirror.refresh_kpis(conn)
    app = create_app(Settings(llm_provider="offline"), urls, pems)
    web = BackgroundServer(app, lifespan="on")
    url = web.start()
    try:
        yield Site(url, urls, sim, pems)
    finally:
        web.stop()
        sim_server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, site) -> Iterator:
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def add_masked_member(site: Site, role: str) -> None:
    """The user `foreman` with `role` in ORG, who may not see costs (the pages' masking tests)."""
    with psycopg.connect(site.urls.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "foreman", hash_password(WEB_PASSWORD), "Fay Foreman")
        accounts.upsert_membership(conn, user_id, ORG, role)
        accounts.set_cost_visibility(conn, user_id, ORG, False)


def log_in(page, username: str, password: str = WEB_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    # The page's scripts (chat, conversations, ratings) must be running before a test types into
    # it: a key pressed earlier reaches a bare textarea, as it would for a very fast user.
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def row_ids(page, rows: str = "#records tbody tr") -> list[str]:
    """The `data-id` of each row, read once the document has loaded: a page is sent as it is
    rendered, so rows read as soon as the new URL commits can be only the first part of the table."""
    page.wait_for_load_state("load")
    return page.locator(rows).evaluate_all("rows => rows.map(r => r.dataset.id)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    tab = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and tab is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{item.name}.png"
        try:
            tab.screenshot(path=str(target), full_page=True)
            report.sections.append(("screenshot", str(target)))
            print(f"\nscreenshot of the failing page: {target}")
        except Exception as exc:  # a dead page must not hide the test's own failure
            print(f"\nno screenshot: {exc}")
