"""A member whose membership hides costs, in the real browser: no money on any page they reach."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web_fixtures import ORG, add_masked_member, log_in

MONEY = re.compile(r"monthly_rate|purchase_price|plan_cost|forecast_cost|actual_cost|cost_variance|monthlyRate|"
                   r"purchasePrice|\bcost\b", re.IGNORECASE)


@pytest.fixture(scope="module", autouse=True)
def masked_member(site):
    add_masked_member(site, "editor")


def _page_text(page) -> str:
    return page.locator("main").inner_text()


def test_the_grid_and_a_record_show_no_money_but_an_editor_still_edits_dates(page):
    log_in(page, "foreman")
    page.goto(f"/o/{ORG}/records")
    expect(page.locator("table tbody tr").first).to_be_visible()
    headers = page.locator("table thead th").all_inner_texts()
    assert "Category" in headers
    assert not MONEY.search(" ".join(headers)), headers
    assert not MONEY.search(page.locator("#column-chooser").inner_text())
    page.locator("table tbody tr th a").first.click()
    expect(page.locator("h1")).to_be_visible()
    assert not MONEY.search(_page_text(page)), _page_text(page)
    assert page.locator("[name=monthlyRate], [name=purchasePrice]").count() == 0
    page.locator("[name=forecastEnd]").fill("2031-03-03")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".notice, [role=status]").first).to_contain_text("Draft saved")


def test_a_cost_question_in_the_chat_says_costs_are_hidden_and_others_answer(page):
    log_in(page, "foreman")
    page.get_by_label(re.compile("Ask a question")).fill("total forecast cost by category")
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    expect(answer.locator(".error")).to_contain_text("hidden for your membership")
    expect(answer.locator("table.result tbody tr")).to_have_count(0)
    assert "cost" not in page.get_by_label(re.compile("Ask a question")).get_attribute("placeholder")
    page.get_by_label(re.compile("Ask a question")).fill("how many items per category")
    page.keyboard.press("Enter")
    latest = page.locator(".answer").first
    expect(latest.locator(".stage")).to_have_text("Done.")
    assert not MONEY.search(latest.locator("table.result").inner_text())


def test_an_ordinary_editor_still_sees_the_money_columns(page):
    log_in(page, "planner")
    page.goto(f"/o/{ORG}/records")
    headers = page.locator("table thead th").all_inner_texts()
    assert "Monthly rate" in headers and "Forecast cost" in headers
