"""The ledger over HTTP and the command line: sealing by the running service, signed heads,
saved-head checks, and breaks in other organizations reported without naming them."""

from __future__ import annotations

import asyncio
import json
import re

import psycopg
import pytest

from tests.api_fixtures import PASSWORD
from tests.test_cli import vanguard


def counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM vanguard.nlq_audit),"
                            " (SELECT count(*) FROM vanguard.nlq_audit_seal)").fetchone()


def tamper(admin_url: str, *statements: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as owner:
        owner.execute("ALTER TABLE vanguard.nlq_audit DISABLE TRIGGER nlq_audit_append_only")
        owner.execute("ALTER TABLE vanguard.nlq_audit_seal DISABLE TRIGGER nlq_audit_seal_append_only")
        for statement in statements:
            owner.execute(statement)
        owner.execute("ALTER TABLE vanguard.nlq_audit ENABLE TRIGGER nlq_audit_append_only")
        owner.execute("ALTER TABLE vanguard.nlq_audit_seal ENABLE TRIGGER nlq_audit_seal_append_only")


async def ask(api, user: str, org: str, question: str) -> None:
    response = await api.post(user, "/api/ai/query", {"org_id": org, "question": question})
    assert response.status_code == 200


async def sealed_soon(url: str, seconds: float = 3.0) -> tuple[int, int]:
    """The sealer polls only every 5 s; sealing sooner than that is the trigger's notification."""
    for _ in range(int(seconds / 0.05)):
        entries, seals = counts(url)
        if entries and entries == seals:
            break
        await asyncio.sleep(0.05)
    return entries, seals


@pytest.fixture
async def audited(api):
    await ask(api, "editor_a", "ORG_A", "how many cranes are rented?")
    await ask(api, "editor_b", "ORG_B", "how many cranes are rented?")
    await ask(api, "viewer_a", "ORG_A", "total forecast cost by area")
    assert await sealed_soon(api.urls.app) == (3, 3)
    return api


async def test_the_running_service_seals_each_entry_moments_after_it_is_written(audited):
    await ask(audited, "viewer_a", "ORG_A", "how many records?")
    assert await sealed_soon(audited.urls.app, seconds=2.0) == (4, 4)


async def test_any_admin_reads_the_same_head_and_no_one_else(audited):
    heads = [(await audited.get(user, f"/api/pfa/{org}/audit/head")).json() for user, org in
             (("admin_a", "ORG_A"), ("admin_b", "ORG_B"))]
    assert heads[0]["position"] == heads[1]["position"] == 3 and heads[0]["mac"] == heads[1]["mac"]
    for user in ("viewer_a", "editor_a", "admin_b"):
        assert (await audited.get(user, "/api/pfa/ORG_A/audit/head")).status_code == 403


async def test_a_saved_head_catches_a_clean_cut(audited):
    api = audited
    head = (await api.get("admin_a", "/api/pfa/ORG_A/audit/head")).json()
    checked = (await api.get("admin_a", "/api/pfa/ORG_A/audit/verify", params={"head": json.dumps(head)})).json()
    assert checked["intact"] and checked["head_check"]["contained"] and checked["head_check"]["signature_ok"]
    tamper(api.urls.admin, "DELETE FROM vanguard.nlq_audit WHERE chain_position = 3",
           "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position = 3")
    checked = (await api.get("admin_a", "/api/pfa/ORG_A/audit/verify", params={"head": json.dumps(head)})).json()
    assert checked["intact"] is True  # whole in itself ...
    assert checked["head_check"]["contained"] is False and checked["head_check"]["current_position"] == 2


@pytest.mark.parametrize("head", ["nope", "{}", json.dumps({"position": 1, "mac": "", "time": "", "signature": "x"}),
                                  "x" * 1001])
async def test_a_malformed_head_is_422(audited, head):
    response = await audited.get("admin_a", "/api/pfa/ORG_A/audit/verify", params={"head": head})
    assert response.status_code == 422 and response.json()["error"]["code"] in ("validation_failed", "invalid_request")


async def test_a_break_in_another_organization_is_said_but_not_shown(audited):
    api = audited
    tamper(api.urls.admin, "UPDATE vanguard.nlq_audit SET question = 'hidden' WHERE organization_id = 'ORG_B'")
    mine = await api.get("admin_a", "/api/pfa/ORG_A/audit/verify")
    report = mine.json()
    assert (report["intact"], report["broken"], report["broken_elsewhere"]) == (False, [], True)
    assert "a break exists outside your organization" in report["message"] and "ORG_B" not in mine.text
    theirs = (await api.get("admin_b", "/api/pfa/ORG_B/audit/verify")).json()
    assert [b["problems"] for b in theirs["broken"]] == [["content", "mac"]] and not theirs["broken_elsewhere"]
    page = await page_as(api, "admin_a", "/o/ORG_A/admin/audit")
    status = re.search(r'<p id="chain-status"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "BROKEN" in status and "a break exists outside your organization" in status and "ORG_B" not in status


async def page_as(api, username: str, path: str) -> str:
    client = api.client
    client.cookies.clear()
    token = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/login")).text).group(1)
    await client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD})
    response = await client.get(path)
    assert response.status_code == 200
    return response.text


def test_the_command_line_prints_a_head_and_checks_it(db):
    with psycopg.connect(db.app, autocommit=True) as conn:
        for org in ("ORG_A", "ORG_B", "ORG_A"):
            conn.execute("INSERT INTO vanguard.nlq_audit (organization_id, kind, question, verdict)"
                         " VALUES (%s, 'query', 'q', 'allowed')", (org,))
    env = {"VANGUARD_DATABASE_URL": db.admin}
    printed = vanguard("audit", "head", env=env)
    assert printed.returncode == 0, printed.stderr
    head = json.loads(printed.stdout)
    assert head["position"] == 3
    checked = vanguard("audit", "verify", "--head", printed.stdout.strip(), env=env)
    assert checked.returncode == 0 and json.loads(checked.stdout)["head_check"]["contained"] is True
    tamper(db.admin, "DELETE FROM vanguard.nlq_audit WHERE chain_position = 3",
           "DELETE FROM vanguard.nlq_audit_seal WHERE chain_position = 3")
    checked = vanguard("audit", "verify", "--head", printed.stdout.strip(), env=env)
    assert checked.returncode == 1 and json.loads(checked.stdout)["head_check"]["contained"] is False
    tamper(db.admin, "UPDATE vanguard.nlq_audit SET question = 'edited' WHERE chain_position = 2")
    mine = vanguard("audit", "verify", "--org", "ORG_A", env=env)
    assert mine.returncode == 1 and json.loads(mine.stdout)["broken_elsewhere"] is True and "ORG_B" not in mine.stdout
    every = json.loads(vanguard("audit", "verify", env=env).stdout)
    assert [(b["position"], b["organization_id"]) for b in every["broken"]] == [(2, "ORG_B")]
    refused = vanguard("audit", "verify", "--head", "not json", env=env)
    assert refused.returncode == 2 and "--head" in refused.stderr


def test_the_command_line_keeps_its_key_in_the_data_directory(db, tmp_path):
    env = {"VANGUARD_DATABASE_URL": db.admin, "VANGUARD_DATA_DIR": str(tmp_path), "VANGUARD_AUDIT_KEY": ""}
    first = vanguard("audit", "head", env=env)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "audit.key").stat().st_mode & 0o777 == 0o600
    again = vanguard("audit", "verify", "--head", first.stdout.strip(), env=env)
    assert json.loads(again.stdout)["head_check"]["signature_ok"] is True
    other_key = vanguard("audit", "verify", "--head", first.stdout.strip(), env={"VANGUARD_DATABASE_URL": db.admin})
    assert json.loads(other_key.stdout)["head_check"]["signature_ok"] is False
