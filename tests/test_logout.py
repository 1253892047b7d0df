"""Logging out ends the session on the server: the cookie, the same token as a bearer, and an API
token are all refused afterwards, by every app process on the database."""

from __future__ import annotations

import contextlib

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from tests.api_fixtures import PASSWORD, seed

DRAFT = {"record_id": "PFA-0000001", "changes": {"area": "Replayed"}}


@contextlib.asynccontextmanager
async def client_of(urls):
    app = create_app(Settings(), urls)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


@pytest.fixture
def accounts(db):
    seed(db.app, records=5)
    return db


async def page_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    csrf = (await client.get("/login")).cookies["vanguard_csrf"]
    response = await client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf})
    assert response.status_code == 303, response.text
    return {"session": client.cookies["vanguard_session"], "csrf": client.cookies["vanguard_csrf"]}


async def api_login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    return response.json()["access_token"]


async def replay(client: httpx.AsyncClient, saved: dict[str, str]) -> list[int]:
    """A page GET, an API GET and a draft POST with what was saved before logout (cookies + CSRF, then bearer)."""
    client.cookies.clear()
    cookies = {"Cookie": f"vanguard_session={saved['session']}; vanguard_csrf={saved['csrf']}"}
    bearer = {"Authorization": f"Bearer {saved['session']}"}
    page = await client.get("/o/ORG_A/records", headers=cookies)
    assert page.status_code in (200, 303)
    page_status = 401 if page.status_code == 303 and page.headers["location"].startswith("/login") else page.status_code
    return [page_status,
            (await client.get("/api/pfa/ORG_A", headers=cookies)).status_code,
            (await client.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers={**cookies, "X-CSRF-Token": saved["csrf"]})).status_code,
            (await client.get("/api/auth/me", headers=bearer)).status_code,
            (await client.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers=bearer)).status_code]


async def test_page_logout_revokes_the_saved_cookie_and_the_same_token_as_bearer(accounts):
    async with client_of(accounts) as client:
        saved = await page_login(client, "editor_a")
        assert await replay(client, saved) == [200, 200, 200, 200, 200]  # the saved session works
        client.cookies.set("vanguard_session", saved["session"])
        client.cookies.set("vanguard_csrf", saved["csrf"])
        response = await client.post("/logout", data={"csrf": saved["csrf"]})
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert await replay(client, saved) == [401] * 5  # the page GET is sent to the login page


async def test_api_logout_revokes_only_that_token(accounts):
    async with client_of(accounts) as client:
        token, other = await api_login(client, "editor_a"), await api_login(client, "editor_a")
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/pfa/ORG_A", headers=bearer)).status_code == 200
        assert (await client.post("/api/auth/logout", headers=bearer)).status_code == 204
        for response in (await client.get("/api/pfa/ORG_A", headers=bearer),
                         await client.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers=bearer),
                         await client.post("/api/auth/logout", headers=bearer)):
            assert response.status_code == 401
            assert response.json()["error"] == {"code": "unauthorized", "details": {},
                                                "message": "This session was ended by logging out; log in again."}
        assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {other}"})).status_code == 200


async def test_logout_with_the_cookie_needs_the_csrf_token(accounts):
    async with client_of(accounts) as client:
        saved = await page_login(client, "viewer_a")
        assert (await client.post("/api/auth/logout")).status_code == 403  # a cross-site POST cannot log you out
        assert (await client.post("/api/auth/logout", headers={"X-CSRF-Token": saved["csrf"]})).status_code == 204
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_another_app_process_refuses_the_token_at_once(accounts):
    async with client_of(accounts) as first, client_of(accounts) as second:
        token = await api_login(first, "viewer_a")
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await second.get("/api/auth/me", headers=bearer)).status_code == 200
        assert (await first.post("/api/auth/logout", headers=bearer)).status_code == 204
        assert (await second.get("/api/auth/me", headers=bearer)).status_code == 401


async def test_revocations_of_expired_tokens_are_pruned(accounts):
    with psycopg.connect(accounts.app, autocommit=True) as conn:
        conn.execute("INSERT INTO vanguard.revoked_tokens (jti, user_id, expires_at) "
                     "VALUES ('old', 1, now() - interval '1 minute')")
    async with client_of(accounts) as client:
        token = await api_login(client, "viewer_a")
        await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    with psycopg.connect(accounts.app) as conn:
        rows = conn.execute("SELECT jti, expires_at > now() FROM vanguard.revoked_tokens").fetchall()
    assert len(rows) == 1 and rows[0][0] != "old" and rows[0][1] is True
