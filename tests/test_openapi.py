"""The OpenAPI document declares every response a route gives: walked statically, then probed with
real requests (every status an answer had must be declared for its route, with the error schema)."""

from __future__ import annotations

import re

import pytest

PUBLIC = {("GET", "/health"), ("GET", "/metrics"), ("POST", "/api/auth/login")}
SSE = {("POST", "/api/ai/query"), ("POST", "/api/ai/bulk")}
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
async def document(api) -> dict:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


async def test_every_error_response_has_the_error_body_and_busy_ones_say_when_to_retry(document):
    body = document["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    detail = document["components"]["schemas"][body["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(detail["properties"]) == {"code", "message", "details"}
    assert "HTTPValidationError" not in document["components"]["schemas"], "FastAPI's 422 shape is not ours"
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (method, path)
        for code, response in responses.items():
            if int(code) >= 400:
                assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (method, path, code)
                assert response["description"], (method, path, code)
        assert "Retry-After" in responses["503"]["headers"], (method, path)


async def test_each_route_declares_the_statuses_its_kind_can_answer(document):
    for method, path, operation in operations(document):
        declared = set(operation["responses"])
        where = (method, path)
        if where not in PUBLIC:
            assert "401" in declared, where
        if "{org_id}" in path or (method == "POST" and where not in PUBLIC):
            assert "403" in declared, where  # a role, or a page's CSRF token
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in declared, where
        if set(re.findall(r"\{(\w+)\}", path)) - {"org_id"}:
            assert "404" in declared, where  # an id in the path may name nothing
    paths = document["paths"]
    assert {"401", "429"} <= set(paths["/api/auth/login"]["post"]["responses"])
    assert "409" in paths["/api/pfa/{org_id}/drafts/{record_id}/resolve"]["post"]["responses"]
    assert "403" not in paths["/api/auth/me"]["get"]["responses"]


async def test_the_streaming_routes_declare_server_sent_events(document):
    for method, path in SSE:
        ok = document["paths"][path][method.lower()]["responses"]["200"]
        assert set(ok["content"]) == {"text/event-stream"}, path
        assert "event:" in ok["content"]["text/event-stream"]["example"]
    exports = document["paths"]["/api/pfa/{org_id}/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(exports) == {"application/x-ndjson", "text/csv"}


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), path)


async def test_every_status_a_probe_gets_is_declared_for_its_route(api, document):
    """Each operation is called as nobody, as an outsider, as the organization's admin with ids that
    name nothing, and with junk parameters; whatever comes back must be in the document."""
    outsider, admin = await api.login("editor_b"), await api.login("admin_a")
    seen: dict[tuple[str, str], set[str]] = {}
    probes = [
        ({}, {"org_id": "ORG_A", "record_id": "PFA-0000001"}, None, {}),
        (outsider, {"org_id": "ORG_A", "record_id": "PFA-0000001"}, None, {}),
        (admin, {"org_id": "ORG_A", "record_id": "PFA-9999999", "commit_id": "999999", "audit_id": "999999",
                 "change_set_id": "999999"}, None, {"strategy": "keep_mine"}),
        (admin, {"org_id": "ORG_A", "record_id": "PFA-0000001", "commit_id": "0.5", "audit_id": "x",
                 "change_set_id": "-1"}, {"limit": "0.5", "until": "0.5", "is_actualized": "maybe"},
         {"change_set_id": False, "full": "yes"}),
    ]
    # Logout revokes the token it is called with: probed last, so the other probes keep theirs.
    for method, path, operation in sorted(operations(document), key=lambda o: o[1] == "/api/auth/logout"):
        if (method, path) in SSE:
            continue  # their error paths are covered below; a valid body would start a stream
        for headers, ids, query, body in probes:
            response = await api.client.request(method, _fill(path, ids), headers=headers, params=query,
                                                json=body if method == "POST" else None)
            seen.setdefault((method, path), set()).add(str(response.status_code))
            assert str(response.status_code) in operation["responses"], (method, path, response.status_code,
                                                                          response.text[:200])
            assert response.status_code < 500 or response.status_code == 503, (method, path, response.text[:200])
    for method, path in SSE:
        operation = document["paths"][path][method.lower()]
        for headers, body in (({}, {"org_id": "ORG_A"}), (admin, {"org_id": "ORG_A"}),
                              (outsider, {"org_id": "ORG_A", "question": "x", "request": "x"})):
            body = {k: v for k, v in body.items() if path.endswith("query") != (k == "request")}
            response = await api.client.post(path, headers=headers, json=body)
            assert str(response.status_code) in operation["responses"], (path, response.status_code)
    every = set().union(*seen.values())
    assert {"200", "401", "403", "404", "422"} <= every, every
