"""Review and commits in a real browser: a change set of 1,389 items paged 500 at a time, the
commits list, "Keep mine and commit now" / "Keep mine", and every field error of a save at its field.

One module-scoped site with 1,400 records; the tests run in file order and build on each other
(the conflicts resolved in one are the commits listed in the next).
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from playwright.sync_api import expect

from store.change_sets import ProposalItem, save_proposal
from store.pems.client import PemsClient
from store.sync.worker import sync_organization
from tests.web_fixtures import ORG, log_in, run_site

ITEMS = 1389


@pytest.fixture(scope="module")
def site(database_factory):
    yield from run_site(database_factory, 1400)


def _propose(url: str, username: str, count: int) -> tuple[int, list[str]]:
    """A bulk change set of `count` items for `username`, as the bulk service saves one."""

    async def run():
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            user_id = (await (await conn.execute("SELECT id FROM vanguard.users WHERE username = %s",
                                                 (username,))).fetchone())[0]
            rows = await (await conn.execute("SELECT id, data FROM vanguard.pfa_mirror WHERE organization_id = %s"
                                             " ORDER BY id LIMIT %s", (ORG, count))).fetchall()
            items = [ProposalItem(rid, {"area": "Paged Yard"}, {"area": data.get("area")}) for rid, data in rows]
            async with conn.transaction():
                change_set = await save_proposal(conn, ORG, user_id, f"move {count} records to Paged Yard", {},
                                                 items, {rid: data for rid, data in rows})
            return change_set, [rid for rid, _ in rows]

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, run()).result()


def _page_ids(page) -> list[str]:
    return page.locator("#review-items input[name=record_id]").evaluate_all("boxes => boxes.map(b => b.value)")


def test_review_pages_through_a_change_set_of_1389_items_and_accept_all_takes_every_page(page, site):
    change_set, ids = _propose(site.urls.app, "admin", ITEMS)
    log_in(page, "admin")
    page.goto(f"/o/{ORG}/review/{change_set}")
    expect(page.locator("#item-range")).to_contain_text("Items 1–500 of 1,389")
    first = _page_ids(page)
    assert first == ids[:500]
    page.get_by_role("navigation", name="Change set pages (top)").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page.locator("#item-range")).to_contain_text("Items 501–1,000 of 1,389")
    assert _page_ids(page) == ids[500:1000]
    page.get_by_role("navigation", name="Change set pages (bottom)").get_by_role("link", name="Last page").click()
    expect(page.locator("#item-range")).to_contain_text("Items 1,001–1,389 of 1,389")
    assert _page_ids(page) == ids[1000:]
    page.reload()
    assert _page_ids(page) == ids[1000:]  # the same order every time

    accept_all = page.get_by_role("button", name="Accept all 1,389 proposed (every page)")
    expect(accept_all).to_be_visible()
    accept_all.click(timeout=60_000)  # 1,389 drafts checked and saved
    expect(page.get_by_role("status")).to_have_text(
        "Accepted 1,389 changes on every page of this change set: now drafts of yours.")
    expect(page).to_have_url(re.compile(r"page=3"))  # back where the user was
    with psycopg.connect(site.urls.app) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM vanguard.pfa_draft WHERE change_set_id = %s"
                                   " GROUP BY state", (change_set,)).fetchall())
    assert states == {"draft": ITEMS}
    expect(page.locator(".request")).to_contain_text("0 proposed, 1,389 accepted")
    expect(page.get_by_role("button", name=re.compile("Commit the 1389 accepted changes"))).to_be_visible()

    page.goto(f"/o/{ORG}/review/{change_set}?page=9")
    expect(page.locator("#past-end")).to_contain_text("There is no page 9: this change set has 3 pages.")
    for bad in ("0", "two", "-1"):
        response = page.goto(f"/o/{ORG}/review/{change_set}?page={bad}")
        assert response.status == 422
        expect(page.locator("main")).to_contain_text("page must be a whole number")


def _pems_area(site, record: str) -> str:
    return site.sim.snapshot(ORG)[record][0]["area"]


def test_keep_mine_and_commit_now_or_keep_mine_say_what_happened(page, site):
    log_in(page, "planner")
    records = []
    for n in (1, 2):
        with psycopg.connect(site.urls.app) as conn:
            record = conn.execute("SELECT id FROM vanguard.pfa_mirror WHERE organization_id = %s AND id > 'PFA-0001389'"
                                  " AND data ->> 'isActualized' = 'false' ORDER BY id OFFSET %s LIMIT 1",
                                  (ORG, n)).fetchone()[0]
        page.goto(f"/o/{ORG}/records/{record}")
        page.get_by_label("area", exact=True).fill(f"Mine {n}")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("status")).to_have_text("Draft saved.")
        site.sim.edit_record(ORG, record, {"area": f"Theirs {n}"})  # someone else in PEMS, meanwhile
        records.append(record)
    with PemsClient(site.pems) as client:
        assert sync_organization(site.urls.app, client, ORG).status == "succeeded"
    page.goto(f"/o/{ORG}/records")
    page.get_by_role("button", name="Commit my drafts to PEMS").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits/\d+$"))
    conflicted = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#commit-counts")).to_have_text("2 conflict")

    keep_now, keep_later = records
    page.locator(f'#commit-items tr[data-id="{keep_now}"]').get_by_role("button", name="Keep mine and commit now").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits/(\d+)\?notice=kept_committed"))
    new_commit = int(re.search(r"/commits/(\d+)\?", page.url).group(1))
    assert new_commit != conflicted
    notice = page.locator("#kept-notice")
    expect(notice).to_contain_text(f"Kept your value for {keep_now} and committed it: commit {new_commit},")
    expect(notice).to_contain_text(f"It was a conflict in commit {conflicted}.")
    expect(notice.get_by_role("link", name=f"commit {new_commit}")).to_be_visible()
    expect(page.locator("#commit-counts")).to_have_text("1 synced", timeout=45_000)  # the page refreshes itself
    expect(notice.locator("[data-state]")).to_have_text("now in PEMS")
    assert _pems_area(site, keep_now) == "Mine 1"

    notice.get_by_role("link", name=f"commit {conflicted}").click()
    row = page.locator(f'#commit-items tr[data-id="{keep_later}"]')
    expect(row).to_contain_text("conflict")
    row.get_by_role("button", name="Keep mine", exact=True).click()
    # The old commit has nothing left, so the record's page says where the value is.
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/records/{keep_later}\?notice=kept_draft"))
    expect(page.locator("#kept-notice")).to_contain_text(
        f"Your value for {keep_later} is back as a draft, waiting for a commit: PEMS does not have it yet.")
    expect(page.locator(".draft-state")).to_contain_text("draft")
    assert _pems_area(site, keep_later) == "Theirs 2"
    page.get_by_role("button", name=f"Commit {keep_later} now").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits/\d+$"))
    expect(page.locator("#commit-counts")).to_have_text("1 synced", timeout=45_000)
    assert _pems_area(site, keep_later) == "Mine 2"


def test_the_commits_list_shows_who_when_and_where_each_stands(page, site):
    log_in(page, "planner")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Commits").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits$"))
    rows = page.locator("#commits tbody tr")
    expect(rows).to_have_count(2)  # the conflicted commit went empty: both kept values moved to new commits
    ids = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.id)")]
    assert ids == sorted(ids, reverse=True)
    expect(page.locator("#commit-range")).to_have_text("Commits 1–2 of 2")
    newest = rows.first
    expect(newest).to_contain_text("Pat Planner")
    expect(newest.locator('[data-count="delivered"]')).to_have_text("1")
    expect(newest.locator('[data-count="conflict"]')).to_have_text("0")
    newest.get_by_role("link", name=str(ids[0])).click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits/{ids[0]}$"))
    page.get_by_role("link", name="← All commits").click()
    expect(page).to_have_url(re.compile(rf"/o/{ORG}/commits$"))
    page.goto(f"/o/{ORG}/commits?page=7")
    expect(page.locator("#past-end")).to_contain_text("There is no page 7: the last page is 1.")
    assert page.goto(f"/o/{ORG}/commits?page=x").status == 422
    log_in(page, "viewer")
    assert page.goto(f"/o/{ORG}/commits").status == 403


def test_the_record_form_shows_every_field_error_of_one_save_at_its_field(page, site):
    with psycopg.connect(site.urls.app) as conn:
        record = conn.execute(
            "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = %s AND id > 'PFA-0001389'"
            " AND data ->> 'isActualized' = 'false' AND data ->> 'forecastStart' > '2000-01-01'"
            " ORDER BY id DESC LIMIT 1", (ORG,)).fetchone()[0]
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/records/{record}")
    # Three rule violations in one save: a value rule, a required text and a rule across fields.
    page.get_by_label("monthly_rate", exact=True).fill("-5")
    page.get_by_label("area", exact=True).fill("")
    page.get_by_label("forecast_end", exact=True).fill("1990-01-01")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#e-monthlyRate")).to_contain_text("cannot be negative")
    expect(page.locator("#e-area")).to_contain_text("must be non-empty text")
    expect(page.locator("#e-forecastEnd")).to_contain_text("is before forecast start")
    for field in ("monthly_rate", "area", "forecast_end"):
        expect(page.get_by_label(field, exact=True)).to_have_attribute("aria-invalid", "true")
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("3 problems, each marked at its field below")
    expect(summary.locator("li")).to_have_count(3)
    expect(page.get_by_label("forecast_end", exact=True)).to_have_value("1990-01-01")  # nothing typed is lost

    # A value the form itself refuses (not a number) still leaves the rules to judge the rest.
    page.get_by_label("monthly_rate", exact=True).fill("lots")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#e-monthlyRate")).to_contain_text("must be a number")
    expect(page.locator("#e-area")).to_contain_text("must be non-empty text")
    expect(page.locator("#e-forecastEnd")).to_contain_text("is before forecast start")
    with psycopg.connect(site.urls.app) as conn:
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft WHERE record_id = %s AND state = 'draft'",
                            (record,)).fetchone()[0] == 0
