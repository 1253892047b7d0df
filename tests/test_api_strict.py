"""Request values are taken only in their own form: a number is not a time, false is not an id
(nlq/strict.py). Each refusal is a 422 `invalid_request` naming the parameter."""

from __future__ import annotations

import pytest

LOOSE_QUERIES = [
    ("/api/pfa/ORG_A/audit", {"until": "0.5"}, "until"),
    ("/api/pfa/ORG_A/audit", {"since": "1700000000"}, "since"),
    ("/api/pfa/ORG_A/audit", {"before_id": "1.0"}, "before_id"),
    ("/api/pfa/ORG_A/audit", {"limit": "5.0"}, "limit"),
    ("/api/pfa/ORG_A/audit", {"limit": "1_0"}, "limit"),
    ("/api/pfa/ORG_A/audit", {"before_id": "+3"}, "before_id"),
    ("/api/pfa/ORG_A", {"is_actualized": "on"}, "is_actualized"),
    ("/api/pfa/ORG_A", {"has_draft": "yes"}, "has_draft"),
    ("/api/pfa/ORG_A/count", {"forecast_from": "0"}, "forecast_from"),
    ("/api/pfa/ORG_A/count", {"forecast_to": "0.0"}, "forecast_to"),
    ("/api/pfa/ORG_A/drafts", {"limit": " 5"}, "limit"),
    ("/api/pfa/ORG_A/commits/1.0", {}, "commit_id"),
    ("/api/pfa/ORG_A/audit/1e3", {}, "audit_id"),
    ("/api/pfa/ORG_A/change-sets/0", {}, "change_set_id"),
    ("/api/pfa/ORG_A/change-sets/1", {"offset": "1.5"}, "offset"),
]


@pytest.mark.parametrize("path, query, name", LOOSE_QUERIES)
async def test_loose_query_and_path_values_are_422(api, path, query, name):
    response = await api.get("admin_a", path, params=query)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [p["location"][-1] for p in error["details"]["problems"]] == [name]


LOOSE_BODIES = [
    ("/api/pfa/ORG_A/commit", {"change_set_id": False}),
    ("/api/pfa/ORG_A/commit", {"change_set_id": "7"}),
    ("/api/pfa/ORG_A/commit", {"change_set_id": 7.0}),
    ("/api/pfa/ORG_A/commit", {"change_set_id": 0}),
    ("/api/pfa/ORG_A/drafts", {"record_id": "PFA-0000001", "changes": {"area": "X"}, "change_set_id": True}),
    ("/api/pfa/ORG_A/drafts/batch", {"items": [{"record_id": "PFA-0000001", "changes": {"area": "X"}}],
                                     "change_set_id": "1"}),
    ("/api/pfa/ORG_A/drafts/discard", {"change_set_id": False}),
    ("/api/pfa/ORG_A/drafts/discard", {"all": 1}),
    ("/api/pfa/ORG_A/drafts/discard", {"all": "true"}),
    ("/api/pfa/ORG_A/sync", {"full": "yes"}),
    ("/api/sync", {"full": 1}),
]


@pytest.mark.parametrize("path, body", LOOSE_BODIES)
async def test_loose_json_values_are_422(api, path, body):
    response = await api.post("admin_a", path, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("path, query", [
    ("/api/pfa/ORG_A/audit", {"until": "2030-01-01T00:00:00Z", "since": "2020-01-01", "before_id": "99", "limit": "5"}),
    ("/api/pfa/ORG_A/audit", {"since": "2020-01-01 10:00:00.5+02:00"}),
    ("/api/pfa/ORG_A", {"is_actualized": "false", "has_draft": "0", "forecast_from": "2020-01-01"}),
    ("/api/pfa/ORG_A/count", {"is_discontinued": "TRUE", "forecast_to": "2040-12-31"}),
])
async def test_well_formed_values_are_still_accepted(api, path, query):
    assert (await api.get("admin_a", path, params=query)).status_code == 200


async def test_well_formed_bodies_are_still_accepted(api):
    assert (await api.post("admin_a", "/api/pfa/ORG_A/commit", {"change_set_id": None})).status_code == 200
    assert (await api.post("admin_a", "/api/pfa/ORG_A/drafts/discard", {"all": True})).status_code == 200
