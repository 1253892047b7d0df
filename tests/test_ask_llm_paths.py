"""POST /api/ai/query on the paths a model can take besides a plain answer: it declines, it is slow
or unreachable, the offline parser stands in for it; and the explanation asked once, after the
statement ran. Every path against the real OpenAI-compatible test server, none sending a row value."""

from __future__ import annotations

import asyncio
import json

import httpx
import psycopg

from nlq.app import create_app
from nlq.config import Settings
from store.pems.background import BackgroundServer
from tests.api_fixtures import PASSWORD, seed
from tests.fake_llm import Scripted
from tests.test_ask_api import CANARIES, GOOD, ask, audit_rows, events_of  # noqa: F401 - `ask` is a fixture

DECLINE = '{"sql": null, "decline": "The records hold no fuel consumption."}'


def names(events) -> list[str]:
    return [n for n, _ in events]


def explanation(events) -> str:
    return "".join(d["delta"] for n, d in events if n == "explanation")


async def test_a_decline_is_a_polite_declined_event_with_no_repair_round(db, ask, fake_llm):
    client = await ask()
    fake_llm.answer(DECLINE)
    events = await events_of(client, "how much diesel did the cranes burn?")
    assert names(events) == ["status", "declined", "done"]
    declined = dict(events)["declined"]
    assert declined["code"] == "declined" and declined["reason"] == "The records hold no fuel consumption."
    assert declined["message"] == "This question cannot be answered from the equipment records."
    assert len(fake_llm.requests) == 1  # no repair round, no explanation
    (row,) = audit_rows(db)
    assert (row["verdict"], row["error_code"], row["detail"]["decline"]) == (
        "declined", "declined", "The records hold no fuel consumption.")
    assert declined["audit_id"] == row["id"] and row["executed_sql"] is None and row["attempts"] == []
    assert row["llm_outputs"] == [{"decline": "The records hold no fuel consumption."}]


async def test_a_decline_in_a_repair_round_ends_the_answer_too(db, ask, fake_llm):
    client = await ask()
    fake_llm.answer('{"sql": "SELECT generate_series(1, 10)"}', DECLINE)
    events = await events_of(client, "number the weeks of fuel use")
    assert names(events) == ["status", "declined", "done"] and len(fake_llm.requests) == 2
    assert "decline" in fake_llm.requests[1]["messages"][1]["content"]  # the repair offers it as well
    (row,) = audit_rows(db)
    assert row["verdict"] == "declined" and [a["allowed"] for a in row["attempts"]] == [False]


async def test_the_explanation_is_asked_once_after_the_statement_that_ran(db, ask, fake_llm):
    """The first statement fails in the database and is repaired: only the repaired one, which ran,
    is explained, in one request made after it ran, from its SQL and columns alone."""
    client = await ask()
    failing = "SELECT (area)::int AS n FROM pfa_merged"
    fake_llm.answer(json.dumps({"sql": failing}), GOOD, Scripted(chunks=["Counts the records ", "per category."]))
    events = await events_of(client, "QUESTION-MARKER how many records per category?")
    order = names(events)
    assert order.index("explanation") > max(i for i, n in enumerate(order) if n == "rows")
    stages = [d["stage"] for n, d in events if n == "status"]
    assert stages == ["writing_sql", "running", "repairing", "running", "explaining"]
    assert explanation(events).startswith("Counts the records per category.\n\nGrouped by category.")
    assert len(fake_llm.requests) == 3
    explain = fake_llm.requests[2]
    assert explain["stream"] is True and "You explain SQL" in explain["messages"][0]["content"]
    assert explain["messages"][1]["content"] == f"Statement: {json.loads(GOOD)['sql']}"
    assert "QUESTION-MARKER" not in json.dumps(explain) and failing not in json.dumps(explain)
    columns = [line for line in explain["messages"][0]["content"].splitlines() if line.startswith("- ")]
    assert [line.split(" ")[1] for line in columns] == ["category"]
    (row,) = audit_rows(db)
    assert row["prompt_template"] == "explain" and row["verdict"] == "allowed"


async def test_a_statement_that_does_not_run_is_not_explained(db, ask, fake_llm):
    client = await ask(query_max_cost=500)
    fake_llm.answer('{"sql": "SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c"}')
    events = await events_of(client, "cross everything")
    assert events[-1][1]["code"] == "over_budget" and "explanation" not in names(events)
    assert len(fake_llm.requests) == 1


async def test_a_model_that_does_not_start_answering_is_reported_by_host_and_hung_up_on(db, ask, fake_llm):
    client = await ask(llm_first_token_seconds=0.5)
    fake_llm.answer(Scripted(content=GOOD, delay=10))
    events = await events_of(client, "how many records per category?")
    host = fake_llm.base_url.split("//")[1].split("/")[0]
    assert names(events) == ["status", "error"]
    assert events[-1][1]["code"] == "llm_unavailable"
    assert events[-1][1]["message"] == f"The language model at {host} did not start answering within 0.5 s."
    for _ in range(40):
        if fake_llm.hung_up:
            break
        await asyncio.sleep(0.05)
    assert fake_llm.hung_up == [0]
    assert audit_rows(db)[0]["error_code"] == "llm_unavailable"


async def test_an_unreachable_endpoint_is_named_by_host_without_key_or_path(db, ask, unreachable_llm):
    host = unreachable_llm.split("//")[1].split("/")[0]
    client = await ask(llm_base_url=unreachable_llm.replace("/v1", "/tenant-s3cr3t/v1"),
                       llm_api_key="sk-do-not-show", llm_connect_timeout_seconds=0.3)
    events = await events_of(client, "how many records?")
    error = events[-1][1]
    assert error["code"] == "llm_unavailable"
    assert error["message"] == f"The language model at {host} cannot be reached: no connection within 0.3 s."
    shown = json.dumps(events) + json.dumps(audit_rows(db)[0]["detail"])
    assert "s3cr3t" not in shown and "sk-do-not-show" not in shown


async def test_the_offline_fallback_answers_and_says_so(db, ask, fake_llm):
    client = await ask(llm_base_url="http://127.0.0.1:1/v1", llm_fallback="offline")
    events = await events_of(client, "how many cranes are rented?")
    assert names(events)[:3] == ["status", "fallback", "sql"] and names(events)[-1] == "done"
    fallback = dict(events)["fallback"]
    assert fallback["provider"] == "offline" and fallback["instead_of"]["from"] == "openai"
    assert fallback["instead_of"]["host"] == "127.0.0.1:1" and fallback["instead_of"]["reason"] == "unreachable"
    note = ("The language model at 127.0.0.1:1 cannot be reached: the connection failed. "
            "The offline parser answered instead.")
    assert fallback["message"] == note
    assert explanation(events).startswith(note + "\n\nOffline reading of the question: 'cranes' matched category Cranes")
    (count,), = [r for n, d in events if n == "rows" for r in d.get("rows", [])]
    with psycopg.connect(db.app) as conn:
        direct = conn.execute("SELECT count(*) FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A'"
                              " AND category = 'Cranes' AND source = 'Rental'").fetchone()[0]
    assert count == direct
    (row,) = audit_rows(db)
    assert (row["provider"], row["model"], row["verdict"]) == ("offline", "offline-parser", "allowed")
    assert row["detail"]["fallback"]["from"] == "openai" and row["detail"]["fallback"]["reason"] == "unreachable"


async def test_without_the_opt_in_there_is_no_fallback(db, ask):
    client = await ask(llm_base_url="http://127.0.0.1:1/v1")
    events = await events_of(client, "how many cranes are rented?")
    assert names(events) == ["status", "error"] and events[-1][1]["code"] == "llm_unavailable"
    assert audit_rows(db)[0]["provider"] == "openai"


async def test_a_fallback_the_offline_parser_cannot_read_still_says_it_fell_back(db, ask):
    client = await ask(llm_base_url="http://127.0.0.1:1/v1", llm_fallback="offline")
    events = await events_of(client, "what is the meaning of life")
    assert names(events) == ["status", "fallback", "error"] and events[-1][1]["code"] == "not_understood"
    (row,) = audit_rows(db)
    assert row["provider"] == "offline" and row["verdict"] == "declined" and row["detail"]["fallback"]


async def test_no_row_value_reaches_the_llm_on_the_decline_explanation_and_fallback_paths(db, ask, fake_llm):
    client = await ask()
    fake_llm.answer('{"sql": "SELECT area, class, model FROM pfa_merged ORDER BY area DESC"}',
                    Scripted(chunks=["Lists areas."]))
    listed = await events_of(client, "list areas, classes and models")
    assert any(CANARIES[0] in json.dumps(d) for n, d in listed if n == "rows")  # the user does see them
    fake_llm.answer(DECLINE)
    await events_of(client, "is fuel use tracked?")
    fallback_client = await ask(llm_fallback="offline")
    fake_llm.answer(*[Scripted(status=503)] * 3)
    fell_back = await events_of(fallback_client, "list the models of cranes")
    assert "fallback" in names(fell_back)
    assert len(fake_llm.requests) == 6  # statement + explanation, decline, three tries before the fallback
    sent = fake_llm.all_text()
    for canary in CANARIES:
        assert canary not in sent


async def test_a_client_that_goes_away_while_the_model_writes_cancels_the_llm_call(db, fake_llm):
    """Over real HTTP: closing the stream while the model is still writing closes the request to
    the model (the test server sees the hang-up) and leaves a `cancelled` audit row."""
    seed(db.app, records=50)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="t"), db)
    fake_llm.answer(Scripted(content=GOOD, delay=30))
    server = BackgroundServer(app, lifespan="on")
    url = await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            token = (await client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            async with client.stream("POST", "/api/ai/query", json={"org_id": "ORG_A", "question": "count"},
                                     headers=headers) as response:
                lines = response.aiter_lines()
                while '"writing_sql"' not in await anext(lines):
                    pass
                while not fake_llm.requests:
                    await asyncio.sleep(0.05)
        for _ in range(100):
            if fake_llm.hung_up and audit_rows(db):
                break
            await asyncio.sleep(0.1)
        assert fake_llm.hung_up == [0], "the request to the model kept running"
        (row,) = audit_rows(db)
        assert row["error_code"] == "cancelled" and row["executed_sql"] is None
    finally:
        await asyncio.to_thread(server.stop)
