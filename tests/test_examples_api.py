"""Verified examples and answer ratings end to end: the real app, a real OpenAI-compatible server
(what it receives is what the model would see), the guardrails and the audit."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from nlq.app import create_app
from nlq.config import Settings
from store import mirror
from tests.api_fixtures import PASSWORD, seed
from tests.fake_llm import Scripted

CANARIES = ("CANARY-area-9d41aa", "CANARY-class-3be07c", "CANARY-model-facade")
BY_CATEGORY = "SELECT category, count(*) AS n FROM pfa_merged GROUP BY category ORDER BY category"
LISTING = "SELECT area, class, model FROM pfa_merged ORDER BY area"


def reply(sql: str) -> str:
    return json.dumps({"sql": sql, "explanation": "x"})


class Golden:
    def __init__(self, client: httpx.AsyncClient, llm):
        self.client, self.llm, self.tokens = client, llm, {}

    async def headers(self, user: str) -> dict:
        if user not in self.tokens:
            response = await self.client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
            self.tokens[user] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(self, user: str, method: str, path: str, json_body=None) -> httpx.Response:
        return await self.client.request(method, path, json=json_body, headers=await self.headers(user))

    async def ask(self, user: str, question: str, sql: str = BY_CATEGORY, org: str = "ORG_A") -> dict:
        """Ask with the model answering `sql`; the events by name, and the SQL request it received."""
        self.llm.answer(reply(sql), Scripted(chunks=["Explained."]))
        before = len(self.llm.requests)
        response = await self.call(user, "POST", "/api/ai/query", {"org_id": org, "question": question})
        assert response.status_code == 200, response.text
        found, name = {}, None
        for line in response.text.splitlines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                found.setdefault(name, []).append(json.loads(line.split(":", 1)[1].strip()))
        assert "done" in found, found
        found["prompt"] = self.llm.requests[before]["messages"]
        return found

    async def mark(self, user: str, audit_id: int, org: str = "ORG_A", **fields) -> httpx.Response:
        return await self.call(user, "POST", f"/api/pfa/{org}/examples", {"audit_id": audit_id, **fields})


@pytest.fixture
async def golden(db, fake_llm):
    seed(db.app, records=300)
    with psycopg.connect(db.app, autocommit=True) as conn:  # row data an LLM must never see
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || jsonb_build_object('area', %s::text,"
                     " 'class', %s::text, 'model', %s::text) WHERE organization_id = 'ORG_A' AND id = 'PFA-0000007'",
                     CANARIES)
        mirror.analyze(conn)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="test"), db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as client:
            yield Golden(client, fake_llm)


def user_text(prompt: list[dict]) -> str:
    return "\n".join(m["content"] for m in prompt if m["role"] == "user")


def carried(db, audit_id: int) -> list[int]:
    with psycopg.connect(db.app) as conn:
        return conn.execute("SELECT detail -> 'examples' FROM vanguard.nlq_audit WHERE id = %s", (audit_id,)).fetchone()[0]


def audit_id_of(found: dict) -> int:
    return found["summary"][0]["audit_id"]


async def test_a_marked_answer_reaches_the_prompt_of_a_similar_question_only(db, golden):
    first = await golden.ask("editor_a", "how many records per category?")
    assert "Verified examples" not in user_text(first["prompt"]) and carried(db, audit_id_of(first)) == []
    response = await golden.mark("admin_a", audit_id_of(first))
    assert response.status_code == 201, response.text
    example = response.json()
    # Kept as the model wrote it: unscoped, over pfa_merged, not the organization-restricted rewrite.
    assert (example["question"], example["sql"], example["active"]) == ("how many records per category?", BY_CATEGORY, True)
    assert example["source_audit_id"] == audit_id_of(first) and example["created_by"] == "admin_a"

    similar = await golden.ask("editor_a", "number of records in each category")
    text = user_text(similar["prompt"])
    assert "Verified examples" in text and f"SQL: {BY_CATEGORY}" in text
    assert "Question: how many records per category?" in text
    assert text.rstrip().endswith("Question: number of records in each category")  # the question comes last
    assert carried(db, audit_id_of(similar)) == [example["id"]]
    entry = (await golden.call("admin_a", "GET", f"/api/pfa/ORG_A/audit/{audit_id_of(similar)}")).json()
    assert entry["detail"]["examples"] == [example["id"]]

    unrelated = await golden.ask("editor_a", "total purchase price of rented cranes",
                                 "SELECT sum(purchase_price) FROM pfa_merged")
    assert "Verified examples" not in user_text(unrelated["prompt"]) and BY_CATEGORY not in json.dumps(unrelated["prompt"])
    assert carried(db, audit_id_of(unrelated)) == []


async def test_at_most_three_examples_best_first(db, golden):
    questions = ["records per category", "records per category and source", "records per category and area",
                 "records per category and dor"]
    for question in questions:
        found = await golden.ask("editor_a", question)
        assert (await golden.mark("admin_a", audit_id_of(found))).status_code == 201
    found = await golden.ask("editor_a", "records per category and source")
    ids = carried(db, audit_id_of(found))
    assert len(ids) == 3
    listed = (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/examples")).json()["items"]
    by_question = {e["question"]: e["id"] for e in listed}
    assert ids[0] == by_question["records per category and source"]  # the closest one first


async def test_other_organizations_examples_stay_theirs(db, golden):
    theirs = await golden.ask("editor_b", "how many records per category?", org="ORG_B")
    response = await golden.mark("admin_b", audit_id_of(theirs), org="ORG_B")
    assert response.status_code == 201
    their_example = response.json()["id"]
    mine = await golden.ask("editor_a", "how many records per category?")
    assert "Verified examples" not in user_text(mine["prompt"]) and carried(db, audit_id_of(mine)) == []
    for method, path, body in (("GET", f"/examples/{their_example}", None),
                               ("PATCH", f"/examples/{their_example}", {"question": "mine now"}),
                               ("POST", f"/examples/{their_example}/retire", None)):
        response = await golden.call("admin_a", method, f"/api/pfa/ORG_A{path}", body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await golden.mark("admin_a", audit_id_of(theirs))).status_code == 404  # their audit entry
    assert (await golden.call("admin_a", "GET", "/api/pfa/ORG_B/examples")).status_code == 403
    assert (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/examples")).json()["items"] == []
    their_list = (await golden.call("admin_b", "GET", "/api/pfa/ORG_B/examples")).json()["items"]
    assert [(e["id"], e["question"], e["active"]) for e in their_list] == [
        (their_example, "how many records per category?", True)]


async def test_a_retired_example_leaves_every_prompt(db, golden):
    first = await golden.ask("editor_a", "how many records per category?")
    example = (await golden.mark("admin_a", audit_id_of(first))).json()
    response = await golden.call("admin_a", "POST", f"/api/pfa/ORG_A/examples/{example['id']}/retire")
    assert response.status_code == 200 and response.json()["active"] is False
    assert response.json()["retired_by"] == "admin_a"
    again = await golden.ask("editor_a", "how many records per category?")
    assert "Verified examples" not in user_text(again["prompt"]) and carried(db, audit_id_of(again)) == []
    assert (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/examples")).json()["items"] == []
    everything = (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/examples?include_retired=true")).json()["items"]
    assert [(e["id"], e["active"]) for e in everything] == [(example["id"], False)]
    edit = await golden.call("admin_a", "PATCH", f"/api/pfa/ORG_A/examples/{example['id']}", {"question": "x y"})
    assert edit.status_code == 409


async def test_the_admin_edits_an_example_and_the_prompt_carries_the_edit(db, golden):
    first = await golden.ask("editor_a", "how many records per category?")
    example = (await golden.mark("admin_a", audit_id_of(first))).json()
    corrected = "SELECT category, count(*) AS records FROM pfa_merged WHERE NOT is_discontinued GROUP BY category"
    response = await golden.call("admin_a", "PATCH", f"/api/pfa/ORG_A/examples/{example['id']}",
                                 {"question": "how many live records per category", "sql": corrected + ";"})
    assert response.status_code == 200, response.text
    assert (response.json()["sql"], response.json()["question"]) == (corrected, "how many live records per category")
    found = await golden.ask("editor_a", "live records per category")
    assert f"SQL: {corrected}" in user_text(found["prompt"]) and BY_CATEGORY not in user_text(found["prompt"])


@pytest.mark.parametrize("sql, code", [
    ("DELETE FROM pfa_merged", "not_a_query"),
    ("SELECT * FROM vanguard.users", None),
    ("SELECT count(*) FROM pfa_merged WHERE organization_id = 'ORG_B'", None),
    ("SELECT pg_sleep(5)", "forbidden_function"),
    ("SELECT 1; SELECT 2", None),
])
async def test_sql_the_guardrails_refuse_is_not_saved(db, golden, sql, code):
    first = await golden.ask("editor_a", "how many records per category?")
    response = await golden.mark("admin_a", audit_id_of(first), sql=sql)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and error["details"]["reasons"]
    if code:
        assert code in [r["code"] for r in error["details"]["reasons"]]
    assert (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/examples")).json()["items"] == []
    example = (await golden.mark("admin_a", audit_id_of(first))).json()
    edit = await golden.call("admin_a", "PATCH", f"/api/pfa/ORG_A/examples/{example['id']}",
                             {"question": "changed", "sql": sql})
    assert edit.status_code == 422
    kept = (await golden.call("admin_a", "GET", f"/api/pfa/ORG_A/examples/{example['id']}")).json()
    assert (kept["question"], kept["sql"]) == ("how many records per category?", BY_CATEGORY)  # nothing half-saved


@pytest.mark.parametrize("body", [
    {"audit_id": "1"}, {"audit_id": 1.0}, {"audit_id": 0}, {"audit_id": 1, "rows": [[1]]},
    {"audit_id": 1, "question": "x" * 2001}, {"audit_id": 1, "sql": "S" * 8001}, {"audit_id": 1, "question": ""},
    {"audit_id": 1, "sql": 5}, {"audit_id": 1, "question": "   "}, {"audit_id": 1, "sql": " ; "}, {},
])
async def test_malformed_example_bodies_are_422(db, golden, body):
    response = await golden.call("admin_a", "POST", "/api/pfa/ORG_A/examples", body)
    assert response.status_code == 422, response.text


async def test_a_patch_needs_something_to_change(db, golden):
    first = await golden.ask("editor_a", "how many records per category?")
    example = (await golden.mark("admin_a", audit_id_of(first))).json()
    for body in ({}, {"sql": None}, {"question": "q", "organization_id": "ORG_B"}):
        response = await golden.call("admin_a", "PATCH", f"/api/pfa/ORG_A/examples/{example['id']}", body)
        assert response.status_code == 422, (body, response.text)


async def test_examples_and_the_review_list_are_for_admins_only(db, golden):
    first = await golden.ask("editor_a", "how many records per category?")
    example = (await golden.mark("admin_a", audit_id_of(first))).json()
    for user in ("editor_a", "viewer_a"):
        for method, path, body in (("GET", "/examples", None), ("POST", "/examples", {"audit_id": audit_id_of(first)}),
                                   ("GET", f"/examples/{example['id']}", None),
                                   ("PATCH", f"/examples/{example['id']}", {"question": "q"}),
                                   ("POST", f"/examples/{example['id']}/retire", None),
                                   ("GET", "/answers/down-rated", None)):
            response = await golden.call(user, method, f"/api/pfa/ORG_A{path}", body)
            assert response.status_code == 403, (user, method, path)
    kept = (await golden.call("admin_a", "GET", f"/api/pfa/ORG_A/examples/{example['id']}")).json()
    assert kept["active"] and kept["question"] == "how many records per category?"


async def test_the_golden_example_path_sends_no_row_value_to_the_llm(db, golden, fake_llm):
    listing = await golden.ask("editor_a", "list areas, classes and models", LISTING)
    assert any(c in json.dumps(listing["rows"]) for c in CANARIES)  # the user does see them
    example = (await golden.mark("admin_a", audit_id_of(listing))).json()
    assert not any(c in json.dumps(example) for c in CANARIES)
    edited = await golden.call("admin_a", "PATCH", f"/api/pfa/ORG_A/examples/{example['id']}",
                               {"question": "list the areas, classes and models of all records"})
    assert edited.status_code == 200
    again = await golden.ask("editor_a", "list the areas and classes", LISTING)
    assert f"SQL: {LISTING}" in user_text(again["prompt"]) and carried(db, audit_id_of(again)) == [example["id"]]
    repaired = await golden.ask("editor_a", "show areas and classes and models", "SELECT (area)::int FROM pfa_merged")
    assert "error" in repaired or "summary" in repaired
    sent = fake_llm.all_text()
    assert "Verified examples" in sent
    for canary in CANARIES:
        assert canary not in sent


# -- ratings ----------------------------------------------------------------------------------------

def ratings(db) -> list[tuple]:
    with psycopg.connect(db.app) as conn:
        return conn.execute("SELECT organization_id, audit_id, user_id, rating FROM vanguard.answer_ratings"
                            " ORDER BY audit_id, user_id").fetchall()


async def test_a_user_rates_their_own_answer_once_and_can_change_it(db, golden):
    found = await golden.ask("viewer_a", "how many records per category?")
    path = f"/api/pfa/ORG_A/answers/{audit_id_of(found)}/rating"
    assert (await golden.call("viewer_a", "GET", path)).status_code == 404  # not rated yet
    response = await golden.call("viewer_a", "PUT", path, {"rating": "down"})
    assert response.status_code == 200 and response.json()["rating"] == "down"
    response = await golden.call("viewer_a", "PUT", path, {"rating": "up"})
    assert response.status_code == 200 and response.json()["rating"] == "up"
    assert [r[3] for r in ratings(db)] == ["up"]  # one rating, changed
    assert (await golden.call("viewer_a", "GET", path)).json()["rating"] == "up"


async def test_only_the_asker_rates_an_answer(db, golden):
    found = await golden.ask("editor_a", "how many records per category?")
    path = f"/api/pfa/ORG_A/answers/{audit_id_of(found)}/rating"
    for user in ("viewer_a", "admin_a"):  # same organization, someone else's answer
        assert (await golden.call(user, "PUT", path, {"rating": "down"})).status_code == 404
    assert (await golden.call("editor_b", "PUT", path, {"rating": "down"})).status_code == 403
    cross = f"/api/pfa/ORG_B/answers/{audit_id_of(found)}/rating"  # their organization, our answer
    assert (await golden.call("editor_b", "PUT", cross, {"rating": "down"})).status_code == 404
    assert (await golden.call("editor_a", "PUT", cross, {"rating": "down"})).status_code == 403
    missing = "/api/pfa/ORG_A/answers/999999/rating"
    assert (await golden.call("editor_a", "PUT", missing, {"rating": "down"})).status_code == 404
    assert ratings(db) == []


@pytest.mark.parametrize("body", [{"rating": "sideways"}, {"rating": 1}, {"rating": True}, {"rating": "DOWN"},
                                  {"rating": "down", "audit_id": 3}, {}, {"rating": None}])
async def test_bad_rating_values_are_422(db, golden, body):
    found = await golden.ask("editor_a", "how many records per category?")
    response = await golden.call("editor_a", "PUT", f"/api/pfa/ORG_A/answers/{audit_id_of(found)}/rating", body)
    assert response.status_code == 422, response.text
    assert ratings(db) == []


async def test_a_bad_answer_id_is_422(db, golden):
    for audit_id in ("abc", "0", "1.5", "-3"):
        response = await golden.call("editor_a", "PUT", f"/api/pfa/ORG_A/answers/{audit_id}/rating", {"rating": "up"})
        assert response.status_code == 422, audit_id


async def test_down_rated_answers_are_listed_for_review_and_corrected_into_examples(db, golden):
    bad = await golden.ask("editor_a", "how many cranes per area?")
    good = await golden.ask("editor_a", "how many records per category?")
    theirs = await golden.ask("editor_b", "how many cranes per area?", org="ORG_B")
    for user, org, found, rating in (("editor_a", "ORG_A", bad, "down"), ("editor_a", "ORG_A", good, "up"),
                                     ("editor_b", "ORG_B", theirs, "down")):
        response = await golden.call(user, "PUT", f"/api/pfa/{org}/answers/{audit_id_of(found)}/rating",
                                     {"rating": rating})
        assert response.status_code == 200
    items = (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/answers/down-rated")).json()["items"]
    assert [(i["audit_id"], i["question"], i["sql"], i["username"], i["example_ids"]) for i in items] == [
        (audit_id_of(bad), "how many cranes per area?", BY_CATEGORY, "editor_a", [])]
    assert items[0]["rated_at"] and items[0]["answered_at"]
    corrected = "SELECT area, count(*) AS cranes FROM pfa_merged WHERE category = 'Cranes' GROUP BY area"
    response = await golden.mark("admin_a", audit_id_of(bad), sql=corrected)
    assert response.status_code == 201 and response.json()["sql"] == corrected
    items = (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/answers/down-rated")).json()["items"]
    assert items[0]["example_ids"] == [response.json()["id"]]
    await golden.call("editor_a", "PUT", f"/api/pfa/ORG_A/answers/{audit_id_of(bad)}/rating", {"rating": "up"})
    assert (await golden.call("admin_a", "GET", "/api/pfa/ORG_A/answers/down-rated")).json()["items"] == []
    found = await golden.ask("editor_a", "cranes per area")
    assert f"SQL: {corrected}" in user_text(found["prompt"])
