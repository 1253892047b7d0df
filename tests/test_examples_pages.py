"""The verified-example and down-rated pages over plain HTTP: roles, CSRF, prefilled forms, and a
refused statement shown again with the admin's text kept."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.test_web_pages import browser_login, csrf_of


async def asked(api, user: str = "editor_a", question: str = "how many cranes are rented?") -> int:
    response = await api.post(user, "/api/ai/query", {"org_id": "ORG_A", "question": question})
    summary = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")
               and '"audit_id"' in line]
    return summary[-1]["audit_id"]


async def test_an_admin_marks_an_answer_from_its_audit_entry_edits_and_retires_it(api):
    audit_id = await asked(api)
    await browser_login(api, "admin_a")
    entry = await api.client.get(f"/o/ORG_A/admin/audit/{audit_id}")
    assert f'href="/o/ORG_A/admin/examples/new?audit_id={audit_id}"' in entry.text
    form = await api.client.get(f"/o/ORG_A/admin/examples/new?audit_id={audit_id}")
    assert form.status_code == 200 and "how many cranes are rented?" in form.text and "pfa_merged" in form.text
    sql = html.unescape(re.search(r'<textarea id="example-sql"[^>]*>([^<]*)</textarea>', form.text).group(1))
    assert "organization_id" not in sql  # the model's statement, not the scoped rewrite
    token = csrf_of(form.text)
    saved = await api.client.post("/o/ORG_A/admin/examples", data={
        "csrf": token, "audit_id": str(audit_id), "question": "how many cranes are rented?", "sql": sql})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?notice=saved")
    (example,) = (await api.get("admin_a", "/api/pfa/ORG_A/examples")).json()["items"]
    again = await asked(api, question="how many rented cranes?")
    entry = await api.client.get(f"/o/ORG_A/admin/audit/{again}")
    assert f'<a href="/o/ORG_A/admin/examples/{example["id"]}">#{example["id"]}</a>' in entry.text  # carried
    listing = await api.client.get("/o/ORG_A/admin/examples?notice=saved")
    assert "Verified example saved" in listing.text and f'data-id="{example["id"]}"' in listing.text

    refused = await api.client.post(f"/o/ORG_A/admin/examples/{example['id']}", data={
        "csrf": token, "question": "rented cranes", "sql": "SELECT * FROM vanguard.users"})
    assert refused.status_code == 422 and "The example was not saved" in refused.text
    assert "SELECT * FROM vanguard.users" in refused.text and "rented cranes" in refused.text  # text kept
    kept = (await api.get("admin_a", f"/api/pfa/ORG_A/examples/{example['id']}")).json()
    assert kept["question"] == "how many cranes are rented?"

    edited = await api.client.post(f"/o/ORG_A/admin/examples/{example['id']}", data={
        "csrf": token, "question": "rented cranes", "sql": sql})
    assert edited.status_code == 303
    assert (await api.get("admin_a", f"/api/pfa/ORG_A/examples/{example['id']}")).json()["question"] == "rented cranes"
    retired = await api.client.post(f"/o/ORG_A/admin/examples/{example['id']}/retire", data={"csrf": token})
    assert retired.status_code == 303 and retired.headers["location"].endswith("?notice=retired")
    assert (await api.get("admin_a", "/api/pfa/ORG_A/examples")).json()["items"] == []
    assert "retired" in (await api.client.get("/o/ORG_A/admin/examples?retired=true")).text


async def test_a_form_post_without_its_token_saves_nothing(api):
    audit_id = await asked(api)
    await browser_login(api, "admin_a")
    response = await api.client.post("/o/ORG_A/admin/examples", data={
        "audit_id": str(audit_id), "question": "q", "sql": "SELECT 1 FROM pfa_merged"})
    assert response.status_code == 403
    assert (await api.get("admin_a", "/api/pfa/ORG_A/examples")).json()["items"] == []


async def test_the_down_rated_page_links_to_a_corrected_example(api):
    audit_id = await asked(api, "viewer_a")
    rated = await api.client.put(f"/api/pfa/ORG_A/answers/{audit_id}/rating", json={"rating": "down"},
                                 headers=await api.login("viewer_a"))
    assert rated.status_code == 200
    await browser_login(api, "admin_a")
    page = await api.client.get("/o/ORG_A/admin/ratings")
    assert page.status_code == 200 and "how many cranes are rented?" in page.text and "viewer_a" in page.text
    assert f'href="/o/ORG_A/admin/examples/new?audit_id={audit_id}"' in page.text


@pytest.mark.parametrize("user, path, status", [
    ("editor_a", "/o/ORG_A/admin/examples", 403), ("viewer_a", "/o/ORG_A/admin/ratings", 403),
    ("editor_a", "/o/ORG_A/admin/examples/new?audit_id=1", 403), ("admin_b", "/o/ORG_A/admin/examples", 403),
    ("admin_a", "/o/ORG_A/admin/examples/999999", 404), ("admin_a", "/o/ORG_A/admin/examples/new?audit_id=999999", 404),
    ("admin_a", "/o/ORG_A/admin/examples/new?audit_id=x", 422),
])
async def test_example_pages_need_the_admin_role_and_are_html_errors(api, user, path, status):
    await browser_login(api, user)
    response = await api.client.get(path)
    assert response.status_code == status and "text/html" in response.headers["content-type"]
    assert "Traceback" not in response.text
