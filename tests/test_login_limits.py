"""Login limits kept in PostgreSQL: counted before the password is verified (so parallel guesses
cannot overtake them), per username whatever the address (a doubling delay, never a lock-out of
the real user), per address whatever the username (password spraying), shared by every app
process, and fed by X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

import asyncio
import contextlib
import doctest

import httpx
import psycopg
import pytest

import nlq.forwarded
from nlq.app import create_app
from nlq.auth.ratelimit import LoginLimits
from nlq.config import Settings
from store.pems.background import BackgroundServer
from tests.api_fixtures import PASSWORD, seed

FREE = LoginLimits().user_free
ADDRESS_FREE = LoginLimits().address_free


@contextlib.asynccontextmanager
async def running(urls, **settings):
    app = create_app(Settings(**settings), urls)
    async with app.router.lifespan_context(app):
        yield app


def client_from(app, address: str) -> httpx.AsyncClient:
    """A client whose requests reach the app from `address` (the peer a server would see)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


async def login(client: httpx.AsyncClient, username: str, password: str, **kw) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password}, **kw)


def counted(urls, kind: str) -> dict[str, int]:
    with psycopg.connect(urls.app) as conn:
        return dict(conn.execute("SELECT key, failures FROM vanguard.login_attempts WHERE kind = %s", (kind,)))


@pytest.fixture
def accounts(db):
    seed(db.app, records=5)
    return db


async def test_parallel_wrong_guesses_reach_password_verification_at_most_the_allowed_number(accounts):
    async with running(accounts) as app, client_from(app, "198.51.100.1") as client:
        answers = await asyncio.gather(*(login(client, "viewer_a", f"guess-{n}") for n in range(25)))
    statuses = sorted(r.status_code for r in answers)
    # A 401 is only ever given after argon2 said no: exactly the allowed number were verified.
    assert statuses.count(401) == FREE and statuses.count(429) == 25 - FREE, statuses
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers if r.status_code == 429)
    assert counted(accounts, "user") == {"viewer_a": FREE}
    assert counted(accounts, "address") == {"198.51.100.1": FREE}  # refused attempts are given back


async def test_the_real_user_waits_out_a_doubling_delay_and_then_logs_in(accounts):
    async with running(accounts) as app, client_from(app, "198.51.100.2") as client:
        for _ in range(FREE):
            assert (await login(client, "Editor_A", "wrong")).status_code == 401  # any case: one username
        during = await login(client, "editor_a", PASSWORD)
        assert during.status_code == 429 and during.json()["error"]["code"] == "too_many_attempts"
        assert during.headers["Retry-After"] == "2"
        await asyncio.sleep(2.1)
        assert (await login(client, "editor_a", "wrong again")).status_code == 401  # one try after the wait
        longer = await login(client, "editor_a", PASSWORD)
        assert longer.status_code == 429 and longer.headers["Retry-After"] in ("3", "4")  # 2^2 s after that try
        await asyncio.sleep(int(longer.headers["Retry-After"]) + 0.1)
        assert (await login(client, "editor_a", PASSWORD)).status_code == 200
        # the right password started the username afresh
        assert [(await login(client, "editor_a", "wrong")).status_code for _ in range(FREE)] == [401] * FREE


async def test_the_username_limit_holds_across_addresses(accounts):
    async with running(accounts) as app:
        for n in range(FREE):
            async with client_from(app, f"203.0.113.{n + 1}") as client:
                assert (await login(client, "admin_a", "wrong")).status_code == 401
        async with client_from(app, "203.0.113.99") as fresh:
            assert (await login(fresh, "admin_a", PASSWORD)).status_code == 429
            assert (await login(fresh, "editor_a", PASSWORD)).status_code == 200  # other usernames are unaffected


async def test_the_address_limit_holds_across_usernames(accounts):
    """Password spraying: one password tried on many usernames from one address."""
    async with running(accounts) as app:
        async with client_from(app, "192.0.2.50") as sprayer:
            for n in range(ADDRESS_FREE):
                assert (await login(sprayer, f"user{n:02d}", "Summer2024!")).status_code == 401
            refused = await login(sprayer, "viewer_a", PASSWORD)
            assert refused.status_code == 429 and "address" in refused.json()["error"]["message"]
            assert refused.json()["error"]["details"]["limit"] == "address"
        async with client_from(app, "192.0.2.51") as elsewhere:
            assert (await login(elsewhere, "viewer_a", PASSWORD)).status_code == 200


async def test_two_app_processes_on_one_database_share_the_counts(accounts):
    async with running(accounts) as first, running(accounts) as second:
        async with client_from(first, "198.51.100.7") as a, client_from(second, "198.51.100.8") as b:
            for client in (a, b, a, b, a):
                assert (await login(client, "viewer_a", "wrong")).status_code == 401
            assert (await login(b, "viewer_a", PASSWORD)).status_code == 429


async def test_forwarded_for_is_ignored_from_an_untrusted_peer_over_real_http(accounts):
    """A real uvicorn on loopback: neither uvicorn nor the app believes the header from 127.0.0.1."""
    app = create_app(Settings(), accounts)
    server = BackgroundServer(app, lifespan="on")
    url = server.start()
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for n in range(FREE):
                response = await login(client, "viewer_a", "wrong", headers={"X-Forwarded-For": f"203.0.113.{n}"})
                assert response.status_code == 401
            forged = await login(client, "editor_a", "wrong", headers={"X-Forwarded-For": "203.0.113.200"})
            assert forged.status_code == 401
    finally:
        server.stop()
    assert counted(accounts, "address") == {"127.0.0.1": FREE + 1}


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(accounts):
    async with running(accounts, forwarded_allow_ips="10.0.0.2, 10.1.0.0/16") as app:
        async with client_from(app, "10.0.0.2") as proxy:
            # the proxy appends the address it saw; whatever the client wrote before it is not believed
            await login(proxy, "viewer_a", "wrong", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
            await login(proxy, "viewer_a", "wrong", headers={"X-Forwarded-For": "203.0.113.10, 10.1.4.4"})
            await login(proxy, "viewer_a", "wrong")  # no header: the proxy itself
        async with client_from(app, "10.0.0.3") as untrusted:
            await login(untrusted, "viewer_a", "wrong", headers={"X-Forwarded-For": "203.0.113.11"})
    assert counted(accounts, "address") == {"203.0.113.9": 1, "203.0.113.10": 1, "10.0.0.2": 1, "10.0.0.3": 1}


async def test_forwarded_proto_from_a_trusted_proxy_makes_the_cookies_secure(accounts):
    for trusted, secure in (("10.0.0.2", True), ("", False)):
        async with running(accounts, forwarded_allow_ips=trusted) as app, client_from(app, "10.0.0.2") as client:
            page = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
            csrf = page.cookies["vanguard_csrf"]
            client.cookies.clear()  # a Secure cookie would not travel back over this client's plain http
            response = await client.post("/login", data={"username": "viewer_a", "password": PASSWORD, "csrf": csrf},
                                         headers={"X-Forwarded-Proto": "https", "Cookie": f"vanguard_csrf={csrf}"})
            assert response.status_code == 303
            cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
            assert any(c.startswith("vanguard_session=") for c in cookies)
            assert all(("; secure" in c.lower()) == secure for c in cookies), cookies


def test_doctests():
    assert doctest.testmod(nlq.forwarded).failed == 0


@pytest.mark.parametrize("spec, header, expected", [
    ("10.0.0.2", "1.1.1.1", "1.1.1.1"),
    ("10.0.0.2", "1.1.1.1, 10.0.0.2", "1.1.1.1"),
    ("10.0.0.0/8", "9.9.9.9, 10.0.0.7, 10.0.0.9", "9.9.9.9"),
    ("*", "5.5.5.5, 4.4.4.4", "5.5.5.5"),  # every hop is a proxy: the first one is all there is
    ("10.0.0.2", " , ", None),
    ("10.0.0.2", "not-an-address", "not-an-address"),
])
def test_the_client_is_the_nearest_untrusted_hop(spec, header, expected):
    assert nlq.forwarded.TrustedProxies(spec).client_of(header) == expected
