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
    assert response.headers["Allow"] == "GET"


async def test_a_body_that_is_not_utf8_is_a_422_not_a_400(client):
    response = await client.post("/api/auth/login", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/api/pfa/ORG_A/drafts", "GET, POST"),  # two routes share the path: both methods named
    ("DELETE", "/api/pfa/ORG_A/commits/1", "GET"),
    ("GET", "/api/ai/query", "POST"),
    ("PATCH", "/o/ORG_A/records", "GET"),
])
async def test_a_405_names_every_method_the_path_allows(client, method, path, allowed):
    response = await client.request(method, path)
    assert response.status_code == 405 and response.headers["Allow"] == allowed


async def test_openapi_is_served(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/health" in response.json()["paths"]


def test_the_llm_line_names_provider_model_and_host_only():
    from nlq.app import describe_llm

    remote = Settings(llm_base_url="https://planner:pw@llm.example.com/deployments/s3cr3t/v1?key=abc",
                      llm_model="qwen2.5-coder", llm_fallback="offline")
    line = describe_llm(remote)
    assert line == ("LLM: model qwen2.5-coder at llm.example.com:443 (OpenAI-compatible)"
                    " (falls back to the offline parser when it cannot answer)")
    assert describe_llm(Settings(llm_provider="openai")) == "LLM: model gpt-4o-mini at api.openai.com:443 (OpenAI-compatible)"
    assert describe_llm(Settings(llm_provider="offline")).startswith("LLM: offline parser")
