"""What the service says about itself: /health without a login says only ok or degraded, details
need an admin and show only their organizations; /metrics needs its token (and is off without
one); every API, error and documentation response carries the security headers; a forged
keyset cursor is a 422, never a 500."""

from __future__ import annotations

import base64
import doctest
import json

import httpx
import pytest

import nlq.records.query
from nlq.app import create_app
from nlq.config import Settings
from store.migrate import list_migrations
from tests.api_fixtures import seed

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
async def metered(db):
    seed(db.app, records=20)
    app = create_app(Settings(metrics_token=TOKEN), db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


# -- /health -------------------------------------------------------------------------------------

async def test_health_without_a_login_names_no_organization(api):
    response = await api.client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "degraded"}
    assert "ORG_A" not in response.text


async def test_health_detail_is_for_admins_of_the_organizations_shown(api):
    assert (await api.client.get("/health?detail=true")).status_code == 401
    assert (await api.client.get("/health?detail=true", headers={"Authorization": "Bearer forged"})).status_code == 401
    refused = await api.get("editor_a", "/health?detail=true")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    detail = (await api.get("admin_b", "/health?detail=true")).json()
    assert detail["stale_organizations"] == ["ORG_B"] and detail["sync_age_seconds"] == {"ORG_B": None}
    assert detail["schema_version"] == list_migrations()[-1].version


# -- /metrics ------------------------------------------------------------------------------------

async def test_metrics_are_off_without_a_configured_token(api):
    for headers in ({}, {"Authorization": "Bearer anything-at-all-0000"}):
        response = await api.client.get("/metrics", headers=headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}",
                                    f"Bearer {TOKEN.upper()}", "Bearer ünïcode".encode("latin-1")])
async def test_metrics_refuse_a_missing_or_wrong_token(metered, header):
    response = await metered.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert "vanguard_" not in response.text


async def test_metrics_with_the_token(metered):
    response = await metered.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and 'vanguard_mirror_records{organization="ORG_A"} 20' in response.text


def test_a_short_metrics_token_is_refused_at_start():
    with pytest.raises(ValueError):
        Settings(metrics_token="short")


# -- security headers ----------------------------------------------------------------------------

HEADER_PATHS = ["/health", "/openapi.json", "/docs", "/redoc", "/api/auth/me", "/api/pfa/ORG_A", "/nope",
                "/api/pfa/ORG_A/audit/export?format=csv", "/metrics", "/api/pfa/ORG_B"]


async def test_api_and_documentation_responses_carry_the_security_headers(api):
    auth = await api.login("admin_a")
    for path in HEADER_PATHS:  # JSON, errors (404, 403), a stream, the docs pages
        headers = (await api.client.get(path, headers=auth)).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["cache-control"] == "no-store", path
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert len(headers.get_list("content-security-policy")) == 1, path


async def test_json_may_not_run_scripts_but_the_docs_page_may_load_swagger(api):
    api_csp = (await api.client.get("/openapi.json")).headers["content-security-policy"]
    assert api_csp.startswith("default-src 'none'") and "script-src" not in api_csp
    docs = await api.client.get("/docs")
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert "script-src 'self' 'sha256-" in docs.headers["content-security-policy"]


async def test_pages_keep_their_own_policy_and_static_files_stay_cacheable(api):
    page = await api.client.get("/login")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    static = await api.client.get("/static/app.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in static.headers


# -- keyset cursors ------------------------------------------------------------------------------

def b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = {
    "random base64": ("id", b64(bytes(range(256)) * 3)),
    "base64 of text": ("id", b64(b"hello")),
    "invalid UTF-8": ("id", b64(b'["id", false, "\xff", "x"]')),
    "a JSON object": ("id", b64({"a": 1, "b": 2, "c": 3, "d": 4})),
    "a JSON number": ("id", b64(7)),
    "a JSON string": ("id", b64("abcd")),
    "too few items": ("id", b64(["id", False, "x"])),
    "too many items": ("id", b64(["id", False, "x", "y", "z"])),
    "a non-text id": ("id", b64(["id", False, "x", 5])),
    "a list as id": ("id", b64(["id", False, "x", ["y"]])),
    "a NUL in the id": ("id", b64(["id", False, "x", "a\x00b"])),
    "a lone surrogate": ("area", b64(["area", False, "\ud800", "x"])),
    "a huge id": ("id", b64(["id", False, "x", "y" * 1400])),
    "text for a number": ("monthly_rate", b64(["monthly_rate", False, "lots", "x"])),
    "a list for a number": ("monthly_rate", b64(["monthly_rate", False, [1, 2], "x"])),
    "an object for a number": ("monthly_rate", b64(["monthly_rate", False, {"v": 1}, "x"])),
    "true for a number": ("monthly_rate", b64(["monthly_rate", False, True, "x"])),
    "NaN for a number": ("monthly_rate", b64(["monthly_rate", False, "NaN", "x"])),
    "a huge exponent": ("monthly_rate", b64(["monthly_rate", False, "1e99999", "x"])),
    "a huge number": ("monthly_rate", b64(["monthly_rate", False, 10 ** 400, "x"])),
    "a number for a date": ("forecast_start", b64(["forecast_start", False, 20260101, "x"])),
    "a bad date": ("forecast_start", b64(["forecast_start", False, "2026-02-30", "x"])),
    "a long date": ("forecast_start", b64(["forecast_start", False, "2026-02-01T00:00:00", "x"])),
    "text for a flag": ("is_actualized", b64(["is_actualized", False, "yes", "x"])),
    "a number for a flag": ("is_actualized", b64(["is_actualized", False, 1, "x"])),
    "a number for text": ("area", b64(["area", False, 42, "x"])),
    "an object for text": ("area", b64(["area", False, {"$gt": ""}, "x"])),
    "a naive timestamp": ("last_synced_at", b64(["last_synced_at", False, "2026-01-01T00:00:00", "x"])),
    "a date for a timestamp": ("last_synced_at", b64(["last_synced_at", False, 5, "x"])),
    "the wrong direction type": ("area", b64(["area", "no", "x", "x"])),
    "a deeply nested value": ("area", b64(b"[" * 600 + b"]" * 600)),
}


async def test_a_forged_cursor_is_a_422_invalid_request(api):
    auth = await api.login("viewer_a")
    for name, (sort, cursor) in FORGED.items():
        response = await api.client.get(f"/api/pfa/ORG_A?sort={sort}&cursor={cursor}", headers=auth)
        assert response.status_code == 422, (name, response.text)
        assert response.json()["error"]["code"] == "invalid_request", (name, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_a_cursor_longer_than_allowed_is_a_422(api):
    response = await api.get("viewer_a", f"/api/pfa/ORG_A?cursor={'A' * 2001}")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


async def test_real_cursors_still_page_through_everything(api):
    for sort in ("id", "-area", "monthly_rate", "-forecast_cost", "forecast_start", "is_actualized",
                 "-last_synced_at", "class"):
        seen, cursor = [], None
        for _ in range(20):
            suffix = f"&cursor={cursor}" if cursor else ""
            body = (await api.get("viewer_a", f"/api/pfa/ORG_A?sort={sort}&limit=70{suffix}")).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 200, sort


def test_doctests():
    assert doctest.testmod(nlq.records.query).failed == 0
