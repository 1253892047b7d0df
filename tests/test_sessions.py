"""Sessions end when an administrator says so: a role change or a removed membership counts on the
next request, and `vanguard users end-sessions` refuses every token of the user, in every app
process on the database (two app instances here, each with its own pools and state)."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import httpx
import jwt
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from store import accounts
from tests.api_fixtures import PASSWORD, seed
from tests.helpers import cli_env

DRAFT = {"record_id": "PFA-0000001", "changes": {"area": "Ended"}}


@contextlib.asynccontextmanager
async def client_of(urls):
    app = create_app(Settings(), urls)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


@pytest.fixture
def accounts_db(db):
    seed(db.app, records=5)
    return db


async def api_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def vanguard(urls, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], input=stdin, capture_output=True, text=True,
                          env=cli_env({"VANGUARD_DATABASE_URL": urls.admin}), timeout=120)


def user_id(urls, username: str) -> int:
    with psycopg.connect(urls.app) as conn:
        return accounts.find_user_by_username(conn, username)[0]


async def test_a_lowered_role_counts_on_the_next_request_of_another_process(accounts_db):
    async with client_of(accounts_db) as first, client_of(accounts_db) as second:
        bearer = await api_login(first, "editor_a")
        assert (await second.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers=bearer)).status_code == 200
        with psycopg.connect(accounts_db.app, autocommit=True) as conn:
            accounts.upsert_membership(conn, user_id(accounts_db, "editor_a"), "ORG_A", "viewer")
        for client in (second, first):
            refused = await client.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers=bearer)
            assert refused.status_code == 403 and "editor role" in refused.json()["error"]["message"]
            assert (await client.get("/api/pfa/ORG_A", headers=bearer)).status_code == 200  # still a viewer
            assert (await client.get("/api/auth/me", headers=bearer)).json()["memberships"] == {"ORG_A": "viewer"}


async def test_a_removed_membership_counts_on_the_next_request_of_another_process(accounts_db):
    async with client_of(accounts_db) as first, client_of(accounts_db) as second:
        bearer = await api_login(first, "viewer_a")
        assert (await second.get("/api/pfa/ORG_A", headers=bearer)).status_code == 200
        removed = vanguard(accounts_db, "users", "remove-role", "viewer_a", "ORG_A")
        assert removed.returncode == 0 and "viewer_a is no longer a member of ORG_A" in removed.stdout
        for client in (second, first):
            assert (await client.get("/api/pfa/ORG_A", headers=bearer)).status_code == 403
            assert (await client.get("/api/auth/me", headers=bearer)).json()["memberships"] == {}


async def test_ending_a_users_sessions_refuses_every_token_in_every_process(accounts_db):
    async with client_of(accounts_db) as first, client_of(accounts_db) as second:
        phone, laptop = await api_login(first, "editor_a"), await api_login(second, "editor_a")
        bystander = await api_login(first, "viewer_a")
        assert (await second.get("/api/auth/me", headers=phone)).status_code == 200
        ended = vanguard(accounts_db, "users", "end-sessions", "editor_a")
        assert ended.returncode == 0 and "every session of editor_a has ended" in ended.stdout
        for client in (first, second):
            for bearer in (phone, laptop):
                response = await client.get("/api/pfa/ORG_A", headers=bearer)
                assert response.status_code == 401
                assert "ended by an administrator" in response.json()["error"]["message"]
            assert (await client.get("/api/auth/me", headers=bystander)).status_code == 200  # others keep theirs
        fresh = await api_login(second, "editor_a")  # logging in again works at once, in any process
        assert (await first.post("/api/pfa/ORG_A/drafts", json=DRAFT, headers=fresh)).status_code == 200


async def test_ending_sessions_also_ends_a_browser_session(accounts_db):
    async with client_of(accounts_db) as client:
        csrf = (await client.get("/login")).cookies["vanguard_csrf"]
        login = await client.post("/login", data={"username": "viewer_a", "password": PASSWORD, "csrf": csrf})
        assert login.status_code == 303 and (await client.get("/o/ORG_A/records")).status_code == 200
        assert vanguard(accounts_db, "users", "end-sessions", "viewer_a").returncode == 0
        page = await client.get("/o/ORG_A/records")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_a_new_password_ends_the_sessions_of_the_old_one(accounts_db):
    async with client_of(accounts_db) as first, client_of(accounts_db) as second:
        bearer = await api_login(first, "viewer_a")
        changed = vanguard(accounts_db, "users", "set-password", "viewer_a", "--password-stdin", stdin=f"{PASSWORD}\n")
        assert changed.returncode == 0, changed.stderr
        assert (await second.get("/api/auth/me", headers=bearer)).status_code == 401
        assert (await second.get("/api/auth/me", headers=await api_login(second, "viewer_a"))).status_code == 200


async def test_a_token_from_before_generations_counts_as_generation_0(accounts_db):
    async with client_of(accounts_db) as client:
        issued = (await api_login(client, "viewer_a"))["Authorization"][7:]
        with psycopg.connect(accounts_db.app) as conn:
            key = accounts.get_secret(conn, "jwt_signing_key")
        claims = jwt.decode(issued, key, algorithms=["HS256"])
        assert claims["gen"] == 0
        del claims["gen"]
        old = {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}
        assert (await client.get("/api/auth/me", headers=old)).status_code == 200
        assert vanguard(accounts_db, "users", "end-sessions", "viewer_a").returncode == 0
        assert (await client.get("/api/auth/me", headers=old)).status_code == 401
        forged = {"Authorization": f"Bearer {jwt.encode({**claims, 'gen': '1'}, key, algorithm='HS256')}"}
        assert (await client.get("/api/auth/me", headers=forged)).status_code == 401  # not a number: not ours


@pytest.mark.parametrize("args, message", [
    (("users", "end-sessions", "ghost"), "user ghost does not exist"),
    (("users", "remove-role", "ghost", "ORG_A"), "user ghost does not exist"),
    (("users", "remove-role", "viewer_a", "ORG_B"), "viewer_a is not a member of ORG_B"),
])
def test_users_session_commands_explain_bad_input(accounts_db, args, message):
    result = vanguard(accounts_db, *args)
    assert result.returncode == 1 and message in result.stderr, result.stderr
