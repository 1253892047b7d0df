"""The app factory: lifespan-managed pools, health, and the one error body."""

from __future__ import annotations

import httpx
import pytest

from nlq.app import create_app
from nlq.config import Settings


@pytest.fixture
async def client(db):
    app = create_app(Settings(), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def test_health_says_only_ok_without_a_login(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_detail_needs_a_login(client):
    response = await client.get("/health?detail=true")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


async def test_unknown_route_uses_the_error_body(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_wrong_method_uses_the_error_body(client):
    response = await client.post("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_openapi_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/health" in response.json()["paths"]
