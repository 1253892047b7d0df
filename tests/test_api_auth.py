"""Login, tokens, /me, and the organization gate on every organization-scoped route."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.api_fixtures import PASSWORD


async def test_login_and_me(api):
    response = await api.client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})
    body = response.json()
    assert response.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 480 * 60
    me = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "editor_a" and me.json()["memberships"] == {"ORG_A": "editor"}


@pytest.mark.parametrize("payload", [
    {"username": "editor_a", "password": "wrong"}, {"username": "nobody", "password": PASSWORD}])
async def test_wrong_credentials_are_401_without_saying_which(api, payload):
    response = await api.client.post("/api/auth/login", json=payload)
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "unauthorized", "message": "Wrong username or password.", "details": {}}


@pytest.mark.parametrize("payload", [None, "text", {"username": "x"}, {"username": 5, "password": "p"},
                                     {"username": "", "password": "p"}, {"username": "a", "password": "p", "x": 1},
                                     {"username": "a" * 65, "password": "p"}])
async def test_malformed_login_is_422(api, payload):
    response = await api.client.post("/api/auth/login", json=payload)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


async def test_malformed_json_is_422(api):
    response = await api.client.post("/api/auth/login", content=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 422


async def test_repeated_failures_are_limited_per_user_and_address(api):
    for _ in range(5):
        assert (await api.client.post("/api/auth/login", json={"username": "viewer_a", "password": "bad"})).status_code == 401
    limited = await api.client.post("/api/auth/login", json={"username": "viewer_a", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    other = await api.client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})
    assert other.status_code == 200  # the limit is per user, not global


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
async def test_missing_or_garbage_tokens_are_401(api, header):
    headers = {"Authorization": header} if header else {}
    response = await api.client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


async def test_expired_and_tampered_tokens_are_401(api):
    key = api.app.state.tokens.key
    expired = jwt.encode({"sub": "1", "iat": 1, "exp": int(time.time()) - 10}, key, algorithm="HS256")
    response = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
    forged = jwt.encode({"sub": "1", "iat": 1, "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
    assert (await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    good = (await api.login("admin_a"))["Authorization"].split()[1]
    head, payload, signature = good.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{signature}"
    assert (await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {tampered}"})).status_code == 401
    none_alg = jwt.encode({"sub": "1", "iat": 1, "exp": int(time.time()) + 60}, None, algorithm="none")
    assert (await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {none_alg}"})).status_code == 401


def _org_routes(app) -> list[tuple[str, str]]:
    routes = []
    for path, methods in app.openapi()["paths"].items():
        if "{org_id}" in path:
            routes.extend((method.upper(), path) for method in methods)
    return routes


def _fill(path: str, org: str, record: str) -> str:
    import re
    path = path.replace("{org_id}", org).replace("{record_id}", record)
    return re.sub(r"\{[a-z_]+\}", "1", path)  # any other id: commit, audit entry, ...


async def test_every_organization_route_refuses_outsiders_identically(api):
    """Walks the route table: new routes are covered without anyone remembering to add them."""
    routes = _org_routes(api.app)
    assert len(routes) >= 10
    headers = await api.login("editor_b")  # a member of ORG_B only
    for method, path in routes:
        answers = []
        for record in ("PFA-0000001", "PFA-9999999"):  # one that exists in ORG_A, one that does not
            response = await api.client.request(method, _fill(path, "ORG_A", record), headers=headers,
                                                json={} if method == "POST" else None)
            assert response.status_code == 403, (method, path, response.text)
            answers.append(response.json())
        assert answers[0] == answers[1], f"{method} {path} tells outsiders whether a record exists"
        unknown_org = await api.client.request(method, _fill(path, "NO_SUCH_ORG", "x"), headers=headers,
                                               json={} if method == "POST" else None)
        assert unknown_org.status_code == 403


async def test_every_organization_route_needs_a_token(api):
    for method, path in _org_routes(api.app):
        response = await api.client.request(method, _fill(path, "ORG_A", "PFA-0000001"),
                                            json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path)


async def test_roles_are_enforced(api):
    viewer_write = await api.post("viewer_a", "/api/pfa/ORG_A/drafts",
                                  {"record_id": "PFA-0000001", "changes": {"area": "X"}})
    assert viewer_write.status_code == 403 and "editor" in viewer_write.json()["error"]["message"]
    editor_sync = await api.post("editor_a", "/api/pfa/ORG_A/sync", {})
    assert editor_sync.status_code == 403 and "admin" in editor_sync.json()["error"]["message"]
    assert (await api.get("viewer_a", "/api/pfa/ORG_A")).status_code == 200
