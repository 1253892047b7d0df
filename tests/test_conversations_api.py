"""Conversations end to end: follow-ups through a real OpenAI-compatible server and the offline
reader, stored turns reopened, the audit's link, and nobody else's conversation ever reachable."""

from __future__ import annotations

import json

import psycopg
import pytest

from nlq.ask.conversations import STORED_ROWS
from store import accounts
from tests.api_fixtures import PASSWORD
from tests.fake_llm import FollowUpModel, is_explanation
from tests.test_ask_api import CANARIES, ask, audit_rows  # noqa: F401 - the fixture
from tests.helpers import sse_events, rows_of

FIRST = "how many rentals per category"
FIRST_SQL = ("SELECT category, count(*) AS n FROM pfa_merged WHERE source = 'Rental' "
             "GROUP BY category ORDER BY category")


async def turn(client, question: str, conversation: str | None = None, org: str = "ORG_A"):
    body = {"org_id": org, "question": question}
    if conversation:
        body["conversation_id"] = conversation
    response = await client.post("/api/ai/query", json=body)
    assert response.status_code == 200, response.text
    return sse_events(response.text)



def direct(db, sql: str) -> list[list]:
    with psycopg.connect(db.app) as conn:
        return [list(r) for r in conn.execute(sql).fetchall()]


def user_prompt(request: dict) -> str:
    return request["messages"][-1]["content"]


async def login(client, username: str) -> dict:
    token = (await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


MERGED = "vanguard.pfa_mirror WHERE organization_id = 'ORG_A' AND deleted_at IS NULL"


async def test_follow_ups_refine_the_previous_statement_through_the_llm(db, ask, fake_llm):
    client = await ask()
    fake_llm.responder = FollowUpModel({FIRST: FIRST_SQL})
    first = await turn(client, FIRST)
    conversation = first[0][1]["conversation"]
    assert first[0][0] == "status" and conversation["new"] and conversation["position"] == 1
    cid = conversation["id"]
    assert [[c, float(n)] for c, n in rows_of(first)] == [[c, float(n)] for c, n in direct(
        db, f"SELECT category, count(*) FROM {MERGED} AND source = 'Rental' GROUP BY 1 ORDER BY 1")]

    purchases = await turn(client, "and for purchases?", cid)
    assert purchases[0][1]["conversation"] == {**conversation, "new": False, "position": 2,
                                               "turn_id": purchases[0][1]["conversation"]["turn_id"]}
    assert rows_of(purchases) == direct(
        db, f"SELECT category, count(*) FROM {MERGED} AND source = 'Purchase' GROUP BY 1 ORDER BY 1")
    silo = await turn(client, "only Silo 4", cid)
    assert rows_of(silo) == direct(db, f"SELECT category, count(*) FROM {MERGED} AND source = 'Purchase'"
                                       " AND area = 'Silo 4' GROUP BY 1 ORDER BY 1")
    by_cost = await turn(client, "sort by cost", cid)
    assert rows_of(by_cost) == direct(db, f"SELECT category, count(*) FROM {MERGED} AND source = 'Purchase'"
                                          " AND area = 'Silo 4' GROUP BY 1 ORDER BY sum(forecast_cost) DESC, 1")
    chart = await turn(client, "as a chart by month", cid)
    assert [[str(m), n] for m, n in (r for r in rows_of(chart))] == [[str(m), n] for m, n in direct(
        db, f"SELECT date_trunc('month', forecast_start)::date, count(*) FROM {MERGED} AND source = 'Purchase'"
            " AND area = 'Silo 4' GROUP BY 1 ORDER BY 1 NULLS FIRST")]

    prompts = [user_prompt(r) for r in fake_llm.requests if not is_explanation(r)]
    assert "Earlier in this conversation" not in prompts[0]
    assert f"- Question: {FIRST}\n  Statement: {FIRST_SQL}" in prompts[1]
    assert prompts[1].rstrip().endswith("Question: and for purchases?")
    # Bounded: the fifth question's prompt carries the last four turns, oldest first.
    assert prompts[4].count("- Question:") == 4 and f"- Question: {FIRST}\n" in prompts[4]
    audit = audit_rows(db)
    assert [str(a["conversation_id"]) for a in audit] == [cid] * 5 and {a["verdict"] for a in audit} == {"allowed"}


async def test_the_prompt_carries_at_most_the_last_four_turns(db, ask, fake_llm):
    client = await ask()
    fake_llm.responder = FollowUpModel({f"question {i}": f"SELECT {i} AS n" for i in range(6)})
    cid = None
    for i in range(6):
        events = await turn(client, f"question {i}", cid)
        cid = events[0][1]["conversation"]["id"]
    last = [user_prompt(r) for r in fake_llm.requests if not is_explanation(r)][-1]
    assert [line for line in last.splitlines() if line.startswith("- Question:")] == [
        f"- Question: question {i}" for i in (1, 2, 3, 4)]


async def test_no_row_value_reaches_the_llm_on_the_follow_up_path(db, ask, fake_llm):
    """The first answer shows the canary rows to the user; its follow-ups' prompts (and their
    repairs and explanations) carry its question and SQL only."""
    client = await ask()
    fake_llm.responder = FollowUpModel({"list areas, classes and models": "SELECT area, class, model, source FROM pfa_merged"
                                                                           " WHERE source = 'Rental' ORDER BY id"})
    first = await turn(client, "list areas, classes and models")
    assert any(CANARIES[0] in json.dumps(r) for r in rows_of(first))
    cid = first[0][1]["conversation"]["id"]
    fake_llm.answer('{"sql": "SELECT pg_sleep(1)"}')  # a refused follow-up: its repair carries the history too
    follow = await turn(client, "only Silo 4", cid)
    assert follow[-1][0] == "done"
    await turn(client, "and for purchases?", cid)
    follow_ups = [r for r in fake_llm.requests[2:] if not is_explanation(r)]
    assert len(follow_ups) == 3 and all("Earlier in this conversation" in user_prompt(r) for r in follow_ups)
    assert "Your previous statement could not be used" in user_prompt(follow_ups[1])
    sent = fake_llm.all_text()
    for canary in CANARIES:
        assert canary not in sent
    with psycopg.connect(db.app) as conn:  # the user's own copy keeps the rows, in PostgreSQL
        kept = conn.execute("SELECT rows::text FROM vanguard.conversation_turns WHERE position = 1").fetchone()[0]
    assert CANARIES[0] in kept


async def test_the_offline_reader_combines_refinements_of_its_previous_reading(db, ask, fake_llm):
    client = await ask(llm_base_url=None, llm_api_key=None, llm_provider="offline")
    first = await turn(client, "how many cranes are rented?")
    cid = first[0][1]["conversation"]["id"]
    purchases = await turn(client, "and for purchases?", cid)
    assert rows_of(purchases) == direct(
        db, f"SELECT count(*) FROM {MERGED} AND category = 'Cranes' AND source = 'Purchase'")
    explanation = "".join(d["delta"] for n, d in purchases if n == "explanation")
    assert explanation.startswith("Follow-up of \u201chow many cranes are rented\u201d: \u2018purchases\u2019 in place "
                                  "of \u2018rented\u2019 (source); read as \u201chow many cranes are purchases\u201d.")
    silo = await turn(client, "only Silo 4", cid)  # refines the combined reading, not the bare question
    assert rows_of(silo) == direct(db, f"SELECT count(*) FROM {MERGED} AND category = 'Cranes'"
                                       " AND source = 'Purchase' AND area = 'Silo 4'")
    monthly = await turn(client, "as a chart by month", cid)
    assert rows_of(monthly) == [[str(m), n] for m, n in direct(
        db, f"SELECT date_trunc('month', forecast_start)::date, count(*) FROM {MERGED} AND category = 'Cranes'"
            " AND source = 'Purchase' AND area = 'Silo 4' GROUP BY 1 ORDER BY 1")]
    declined = await turn(client, "only zorblax", cid)
    assert [n for n, _ in declined] == ["status", "error"] and declined[-1][1]["code"] == "not_understood"
    assert "could not combine \u201conly zorblax\u201d" in declined[-1][1]["message"]
    assert "'zorblax'" in declined[-1][1]["message"]
    # Outside a conversation, or as a first question, the same words are read on their own.
    alone = await turn(client, "only Silo 4")
    assert alone[0][1]["conversation"]["new"] and {r[3] for r in rows_of(alone)} == {"Silo 4"}
    assert len(rows_of(alone)) == direct(db, f"SELECT count(*) FROM {MERGED} AND area = 'Silo 4'")[0][0]
    assert fake_llm.requests == []
    with psycopg.connect(db.app) as conn:
        readings = conn.execute("SELECT position, reading, prompt_sql FROM vanguard.conversation_turns"
                                " WHERE conversation_id = %s ORDER BY position", (cid,)).fetchall()
    assert readings[2] == (3, "how many cranes are purchases Silo 4", None)  # offline SQL never goes to a prompt
    assert readings[4][1] is None


async def test_a_reopened_conversation_has_every_answer_and_continues(db, ask, fake_llm):
    client = await ask()
    fake_llm.responder = FollowUpModel({FIRST: FIRST_SQL, "everything": "SELECT id, area FROM pfa_merged ORDER BY id"})
    cid = (await turn(client, FIRST))[0][1]["conversation"]["id"]
    await turn(client, "and for purchases?", cid)
    await turn(client, "everything", cid)
    listed = (await client.get("/api/ai/conversations", params={"org_id": "ORG_A"})).json()["items"]
    assert [(c["id"], c["title"], c["turn_count"], c["last_question"]) for c in listed] == [
        (cid, FIRST, 3, "everything")]
    opened = (await client.get(f"/api/ai/conversations/{cid}", params={"org_id": "ORG_A"})).json()
    first, second, third = opened["turns"]
    assert (first["question"], first["state"], first["columns"]) == (FIRST, "answered", ["category", "n"])
    assert first["rows"] == direct(db, f"SELECT category, count(*) FROM {MERGED} AND source = 'Rental' GROUP BY 1 ORDER BY 1")
    assert second["executed_sql"] and "Purchase" in second["executed_sql"] and second["explanation"]
    assert second["summary"]["row_count"] == len(second["rows"]) and second["audit_id"]
    assert [e["event"] for e in second["events"]] == ["sql", "explanation", "rows", "rows", "summary", "done"]
    # Bounded: the first STORED_ROWS rows are kept, and the turn says the answer had more.
    assert third["summary"]["row_count"] == 300 and third["rows_kept"] == STORED_ROWS == len(third["rows"])
    assert third["rows_cut"] is True and third["rows"][0] == ["PFA-0000001", third["rows"][0][1]]
    fourth = await turn(client, "only Silo 4", cid)
    assert fourth[0][1]["conversation"]["position"] == 4 and fourth[-1][0] == "done"
    renamed = await client.patch(f"/api/ai/conversations/{cid}", json={"org_id": "ORG_A", "title": "  Rentals  "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Rentals"
    deleted = await client.delete(f"/api/ai/conversations/{cid}", params={"org_id": "ORG_A"})
    assert deleted.status_code == 200
    assert (await client.get(f"/api/ai/conversations/{cid}", params={"org_id": "ORG_A"})).status_code == 404
    assert len(audit_rows(db)) == 4  # the ledger keeps every entry


async def test_a_failed_question_is_kept_with_its_error(db, ask, fake_llm):
    client = await ask()
    fake_llm.answer(*['{"sql": "DELETE FROM pfa_merged"}'] * 3)
    events = await turn(client, "delete everything")
    cid = events[0][1]["conversation"]["id"]
    (stored,) = (await client.get(f"/api/ai/conversations/{cid}", params={"org_id": "ORG_A"})).json()["turns"]
    assert stored["state"] == "failed" and stored["error"]["code"] == "rejected"
    assert [e["event"] for e in stored["events"]] == ["error"]


async def test_nobody_else_can_read_or_continue_a_conversation(db, ask, fake_llm):
    client = await ask()
    fake_llm.responder = FollowUpModel({FIRST: FIRST_SQL})
    cid = (await turn(client, FIRST))[0][1]["conversation"]["id"]
    with psycopg.connect(db.app, autocommit=True) as conn:  # the owner also belongs to ORG_B
        user_id = conn.execute("SELECT id FROM vanguard.users WHERE username = 'editor_a'").fetchone()[0]
        accounts.upsert_membership(conn, user_id, "ORG_B", "viewer")
    own = await login(client, "editor_a")
    colleague = await login(client, "viewer_a")
    outsider = await login(client, "admin_b")
    attempts = [(colleague, "ORG_A", 404), (own, "ORG_B", 404), (outsider, "ORG_B", 404), (outsider, "ORG_A", 403)]
    for headers, org, status in attempts:
        asked = await client.post("/api/ai/query", headers=headers,
                                  json={"org_id": org, "question": "and for purchases?", "conversation_id": cid})
        assert asked.status_code == status, (org, asked.text)
        assert (await client.get(f"/api/ai/conversations/{cid}", params={"org_id": org},
                                 headers=headers)).status_code == status
        assert (await client.patch(f"/api/ai/conversations/{cid}", json={"org_id": org, "title": "mine"},
                                   headers=headers)).status_code == status
        assert (await client.delete(f"/api/ai/conversations/{cid}", params={"org_id": org},
                                    headers=headers)).status_code == status
        listed = await client.get("/api/ai/conversations", params={"org_id": org}, headers=headers)
        assert listed.status_code == (403 if status == 403 else 200)
        if status == 404:
            assert listed.json()["items"] == []
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/ai/conversations/{unknown}", params={"org_id": "ORG_A"})).status_code == 404
    with psycopg.connect(db.app) as conn:
        assert conn.execute("SELECT turn_count, title FROM vanguard.conversations").fetchall() == [(1, FIRST)]
    assert len(audit_rows(db)) == 1  # nothing was asked in the refused attempts


@pytest.mark.parametrize("method, path, body, params", [
    ("post", "/api/ai/query", {"org_id": "ORG_A", "question": "x", "conversation_id": "not-a-uuid"}, None),
    ("post", "/api/ai/query", {"org_id": "ORG_A", "question": "x", "conversation_id": 5}, None),
    ("get", "/api/ai/conversations/not-a-uuid", None, {"org_id": "ORG_A"}),
    ("get", "/api/ai/conversations", None, {"org_id": "ORG_A", "limit": "101"}),
    ("get", "/api/ai/conversations", None, {}),
    ("patch", "/api/ai/conversations/00000000-0000-4000-8000-000000000000", {"org_id": "ORG_A", "title": ""}, None),
    ("patch", "/api/ai/conversations/00000000-0000-4000-8000-000000000000", {"org_id": "ORG_A", "title": "   "}, None),
    ("patch", "/api/ai/conversations/00000000-0000-4000-8000-000000000000", {"org_id": "ORG_A", "title": "x" * 121}, None),
    ("patch", "/api/ai/conversations/00000000-0000-4000-8000-000000000000",
     {"org_id": "ORG_A", "title": "x", "owner": 1}, None),
])
async def test_bad_conversation_requests_are_422(ask, method, path, body, params):
    client = await ask()
    kwargs = {"params": params} if params is not None else {}
    if body is not None:
        kwargs["json"] = body
    response = await getattr(client, method)(path, **kwargs)
    assert response.status_code == 422, response.text
    assert "error" in response.json()


async def test_a_full_conversation_refuses_more_questions(db, ask, fake_llm, monkeypatch):
    from nlq.ask import conversations

    monkeypatch.setattr(conversations, "MAX_TURNS", 2)
    client = await ask()
    cid = (await turn(client, "one"))[0][1]["conversation"]["id"]
    await turn(client, "two", cid)
    refused = await client.post("/api/ai/query", json={"org_id": "ORG_A", "question": "three", "conversation_id": cid})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conversation_full"


async def test_the_audit_page_and_api_show_and_filter_by_conversation(db, ask, fake_llm):
    client = await ask()
    cid = (await turn(client, "one"))[0][1]["conversation"]["id"]
    await turn(client, "two")  # another conversation
    admin = await login(client, "admin_a")
    listed = (await client.get("/api/pfa/ORG_A/audit", params={"conversation": cid}, headers=admin)).json()["items"]
    assert [(e["question"], e["conversation_id"]) for e in listed] == [("one", cid)]
    entry = (await client.get(f"/api/pfa/ORG_A/audit/{listed[0]['id']}", headers=admin)).json()
    assert entry["conversation_id"] == cid
