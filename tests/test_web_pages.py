"""The pages over plain HTTP: sessions, CSRF, redirects, roles and error pages (the browser tests
cover what a user does; these cover what an attacker or a confused client sends)."""

from __future__ import annotations

import re

import psycopg

import pytest

from tests.api_fixtures import PASSWORD


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


async def browser_login(api, username: str, next_path: str = "") -> None:
    """Log in through the form, as a browser would: the client keeps the cookies."""
    client = api.client
    client.cookies.clear()
    token = csrf_of((await client.get("/login")).text)
    response = await client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD,
                                                 "next": next_path})
    assert response.status_code == 303, response.text


async def test_login_sets_an_httponly_samesite_session_and_a_fresh_csrf_token(api):
    first = await api.client.get("/login")
    before = csrf_of(first.text)
    assert "httponly" in first.headers["set-cookie"].lower()
    response = await api.client.post("/login", data={"csrf": before, "username": "editor_a", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
    session = next(c for c in cookies if c.startswith("vanguard_session="))
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert api.client.cookies["vanguard_csrf"] != before  # a token seen before login is worthless after it
    home = await api.client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/o/ORG_A/chat"
    page = await api.client.get("/o/ORG_A/chat")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script for the policy to allow


@pytest.mark.parametrize("form", [
    {"username": "editor_a", "password": PASSWORD},  # no token at all
    {"username": "editor_a", "password": PASSWORD, "csrf": "x" * 43},  # a token of someone else's
])
async def test_login_without_the_pages_csrf_token_is_refused(api, form):
    await api.client.get("/login")
    response = await api.client.post("/login", data=form)
    assert response.status_code in (403, 422) and "text/html" in response.headers["content-type"]
    assert "vanguard_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("username, password, message", [
    ("editor_a", "wrong", "Wrong username or password."),
    ("nobody", "wrong", "Wrong username or password."),
    ("", "", "Enter your username and password."),
    ("a\x00b", "x", "not allowed"),
])
async def test_login_form_errors_are_shown_on_the_form(api, username, password, message):
    token = csrf_of((await api.client.get("/login")).text)
    response = await api.client.post("/login", data={"csrf": token, "username": username, "password": password})
    assert response.status_code in (401, 422) and message in response.text
    assert '<form method="post" action="/login"' in response.text


@pytest.mark.parametrize("target, expected", [
    ("/o/ORG_A/records", "/o/ORG_A/records"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"),
])
async def test_login_redirects_only_to_paths_on_this_site(api, target, expected):
    token = csrf_of((await api.client.get("/login")).text)
    response = await api.client.post("/login", data={"csrf": token, "username": "viewer_a", "password": PASSWORD,
                                                      "next": target})
    assert response.headers["location"] == expected


async def test_pages_send_anonymous_visitors_to_login_with_the_way_back(api):
    api.client.cookies.clear()
    response = await api.client.get("/o/ORG_A/records?category=Cranes")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/o/ORG_A/records%3Fcategory%3DCranes"


async def test_api_calls_with_the_cookie_need_the_csrf_header(api):
    await browser_login(api, "editor_a")
    body = {"record_id": "PFA-0000001", "changes": {"area": "Cookie Area"}}
    refused = await api.client.post("/api/pfa/ORG_A/drafts", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["reason"] == "csrf"
    wrong = await api.client.post("/api/pfa/ORG_A/drafts", json=body, headers={"X-CSRF-Token": "y" * 43})
    assert wrong.status_code == 403
    assert (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000001")).json()["draft"] is None  # nothing saved
    token = api.client.cookies["vanguard_csrf"]
    saved = await api.client.post("/api/pfa/ORG_A/drafts", json=body, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    # Reads need no token; a bearer token needs none either (no ambient credential).
    assert (await api.client.get("/api/pfa/ORG_A/drafts")).status_code == 200


async def test_a_form_post_without_its_token_changes_nothing(api):
    await browser_login(api, "editor_a")
    response = await api.client.post("/o/ORG_A/records/PFA-0000002", data={"area": "Forged"})
    assert response.status_code == 403 and "text/html" in response.headers["content-type"]
    assert (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000002")).json()["draft"] is None


def as_form(data: dict) -> dict:
    """The record form as a browser posts it: every editable field, as text."""
    from nlq.web.pages import EDITABLE

    def text(value) -> str:
        return "" if value is None else ("true" if value is True else "false" if value is False else str(value))

    return {f.key: text(data.get(f.key)) for f in EDITABLE}


async def test_record_form_saves_a_draft_and_refuses_bad_values_in_place(api):
    await browser_login(api, "editor_a")
    page = await api.client.get("/o/ORG_A/records/PFA-0000003")
    token = csrf_of(page.text)
    current = (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000003")).json()["data"]
    form = {"csrf": token, "area": current["area"], "category": current["category"], "class": current["class"],
            "source": current["source"], "dor": current["dor"], "monthlyRate": "ten",
            "purchasePrice": str(current.get("purchasePrice") or ""), "forecastStart": current["forecastStart"],
            "forecastEnd": current["forecastEnd"], "isDiscontinued": "false", "isFundsTransferable": "false"}
    bad = await api.client.post("/o/ORG_A/records/PFA-0000003", data=form)
    assert bad.status_code == 422 and "monthlyRate must be a number" in bad.text and 'aria-invalid="true"' in bad.text
    backwards = {**form, "monthlyRate": str(current.get("monthlyRate") or ""), "forecastEnd": "2000-01-01"}
    refused = await api.client.post("/o/ORG_A/records/PFA-0000003", data=backwards)
    assert refused.status_code == 422 and "before forecast start" in refused.text
    assert (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000003")).json()["draft"] is None
    good = {**backwards, "forecastEnd": current["forecastEnd"], "area": "Form Area",
            "isFundsTransferable": "true" if current.get("isFundsTransferable") else "false",
            "isDiscontinued": "true" if current.get("isDiscontinued") else "false"}
    saved = await api.client.post("/o/ORG_A/records/PFA-0000003", data=good)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?notice=saved")
    draft = (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000003")).json()["draft"]
    assert draft["delta"] == {"area": "Form Area"}  # only what changed


@pytest.mark.parametrize("user, path, status", [
    ("viewer_a", "/o/ORG_A/admin/audit", 403), ("viewer_a", "/o/ORG_A/admin/sync", 403),
    ("viewer_a", "/o/ORG_A/review", 403), ("editor_a", "/o/ORG_A/admin/audit", 403),
    ("editor_b", "/o/ORG_A/records", 403), ("editor_b", "/o/ORG_A/chat", 403),
    ("admin_a", "/o/ORG_A/admin/audit/999999", 404), ("editor_a", "/o/ORG_A/review/999999", 404),
    ("viewer_a", "/o/ORG_A/records/PFA-9999999", 404), ("viewer_a", "/o/ORG_A/nope", 404),
])
async def test_forbidden_and_missing_pages_are_html_error_pages(api, user, path, status):
    await browser_login(api, user)
    response = await api.client.get(path)
    assert response.status_code == status and "text/html" in response.headers["content-type"]
    assert "<h1>" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("query", ["forecast_from=2026-13-01", "sort=nope", "cursor=garbage", "area=a%00b",
                                   "is_actualized=maybe"])
async def test_bad_record_filters_are_an_error_page_not_a_500(api, query):
    await browser_login(api, "viewer_a")
    response = await api.client.get(f"/o/ORG_A/records?{query}")
    assert response.status_code == 422 and "text/html" in response.headers["content-type"]


async def test_a_viewer_cannot_post_edits_even_with_a_valid_token(api):
    await browser_login(api, "viewer_a")
    token = csrf_of((await api.client.get("/o/ORG_A/records")).text)
    for path, form in (("/o/ORG_A/records/PFA-0000004", {"area": "X"}), ("/o/ORG_A/commit", {}),
                       ("/o/ORG_A/sync", {}), ("/o/ORG_A/review/1", {"action": "accept_all"})):
        response = await api.client.post(path, data={"csrf": token, **form})
        assert response.status_code == 403, path


async def test_logout_needs_its_token_and_clears_the_session(api):
    await browser_login(api, "viewer_a")
    assert (await api.client.post("/logout", data={})).status_code in (403, 422)
    token = api.client.cookies["vanguard_csrf"]
    response = await api.client.post("/logout", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'vanguard_session=""' in " ".join(response.headers.get_list("set-cookie"))


async def test_review_actions_need_a_selection_or_a_known_action(api):
    await browser_login(api, "editor_a")
    token = csrf_of((await api.client.get("/o/ORG_A/review")).text)
    for form in ({"action": "accept_selected"}, {"action": "explode"}, {}):
        response = await api.client.post("/o/ORG_A/review/1", data={"csrf": token, **form})
        assert response.status_code in (404, 422), form


async def test_record_form_refuses_text_that_is_too_long_instead_of_cutting_it(api):
    await browser_login(api, "editor_a")
    token = csrf_of((await api.client.get("/o/ORG_A/records/PFA-0000005")).text)
    form = {"csrf": token, **as_form((await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000005")).json()["data"]),
            "area": "x" * 201}
    response = await api.client.post("/o/ORG_A/records/PFA-0000005", data=form)
    assert response.status_code == 422 and 'id="e-area"' in response.text
    assert (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000005")).json()["draft"] is None


async def test_commit_page_shows_a_conflict_and_keep_mine_reopens_the_draft(api):
    await browser_login(api, "editor_a")
    token = api.client.cookies["vanguard_csrf"]
    saved = await api.client.post("/api/pfa/ORG_A/drafts", json={"record_id": "PFA-0000009", "changes": {"area": "Mine"}},
                                  headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    with psycopg.connect(api.urls.app, autocommit=True) as conn:  # PEMS changed the same field meanwhile
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"Theirs\"}', pems_record_id = 1"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000009'")
    committed = await api.client.post("/o/ORG_A/commit", data={"csrf": token})
    assert committed.status_code == 303
    page = await api.client.get(committed.headers["location"])
    assert page.status_code == 200 and "conflict" in page.text
    assert "mine <strong>Mine</strong>, theirs (PEMS) <strong>Theirs</strong>" in page.text
    commit_id = committed.headers["location"].rsplit("/", 1)[1]
    bad = await api.client.post("/o/ORG_A/conflicts/PFA-0000009", data={"csrf": token, "strategy": "both",
                                                                         "commit_id": commit_id})
    assert bad.status_code == 422
    kept = await api.client.post("/o/ORG_A/conflicts/PFA-0000009", data={"csrf": token, "strategy": "keep_mine",
                                                                          "commit_id": commit_id})
    # The commit held only this record, so the record's page says where the kept value is now.
    assert kept.status_code == 303
    assert kept.headers["location"] == f"/o/ORG_A/records/PFA-0000009?notice=kept_draft&record=PFA-0000009&from={commit_id}"
    said = (await api.client.get(kept.headers["location"])).text
    assert "is back as a draft, <strong>waiting for a commit</strong>" in said and "Commit PFA-0000009 now" in said
    draft = (await api.get("editor_a", "/api/pfa/ORG_A/records/PFA-0000009")).json()["draft"]
    assert draft["state"] == "draft" and draft["delta"] == {"area": "Mine"} and draft["base"] == {"area": "Theirs"}


async def test_form_values_the_api_would_refuse_are_422_pages_not_500(api):
    await browser_login(api, "editor_a")
    token = csrf_of((await api.client.get("/o/ORG_A/review")).text)
    long_id = "P" * 150
    for path, form in ((f"/o/ORG_A/records/{long_id}/discard", {}),
                       ("/o/ORG_A/review/1", {"action": "reject_selected", "record_id": long_id}),
                       ("/o/ORG_A/conflicts/PFA-0000001", {"strategy": "keep_mine", "commit_id": "x"}),
                       ("/o/ORG_A/commit", {"change_set_id": "not-a-number"})):
        response = await api.client.post(path, data={"csrf": token, **form})
        assert response.status_code in (404, 422), (path, response.status_code)
        assert "text/html" in response.headers["content-type"]
