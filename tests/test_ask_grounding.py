"""Value grounding end to end: a real OpenAI-compatible server writes literals as a user phrased
them; the service matches them to the caller's stored values, or asks, and never leaks a value."""

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
from tests.helpers import sse_events, rows_of


@pytest.fixture
async def ask(db, fake_llm):
    """`make(username)`: a logged-in client. ORG_B stores values ORG_A does not ('Silo 7',
    'Catalyst Cranes'), so choices offered in ORG_A can be checked against them."""
    seed(db.app, records=300)
    with psycopg.connect(db.app, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"Silo 7\"}'"
                     " WHERE organization_id = 'ORG_B' AND id <= 'PFA-0000030'")
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"manufacturer\": \"Catalyst Cranes\"}'"
                     " WHERE organization_id = 'ORG_B' AND id > 'PFA-0000270'")
        mirror.analyze(conn)
    made = []

    async def make(username: str = "editor_a", **settings):
        app = create_app(Settings(**{"llm_base_url": fake_llm.base_url, "llm_api_key": "test", **settings}), db)
        context = app.router.lifespan_context(app)
        await context.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30)
        made.append((context, client))
        token = (await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        return client

    yield make
    for context, client in made:
        await client.aclose()
        await context.__aexit__(None, None, None)


async def events_of(client, question: str, org: str = "ORG_A", **body) -> list[tuple[str, object]]:
    response = await client.post("/api/ai/query", json={"org_id": org, "question": question, **body})
    assert response.status_code == 200, response.text
    return sse_events(response.text)



def direct(db, where: str, params: tuple, org: str = "ORG_A") -> int:
    with psycopg.connect(db.app) as conn:
        return conn.execute(f"SELECT count(*) FROM vanguard.pfa_mirror WHERE organization_id = %s AND {where}",
                            (org, *params)).fetchone()[0]


def audit_rows(db) -> list[dict]:
    with psycopg.connect(db.app) as conn:
        cur = conn.execute("SELECT * FROM vanguard.nlq_audit ORDER BY id")
        return [dict(zip([d.name for d in cur.description], row)) for row in cur.fetchall()]


def sql_reply(statement: str) -> str:
    return json.dumps({"sql": statement, "explanation": "Counts."})


@pytest.mark.parametrize("condition, column, phrased, stored", [
    ("area = 'tank farm'", "area", "tank farm", "Tank Farm"),                  # case
    ("category = 'Crane'", "category", "Crane", "Cranes"),                     # singular
    ("category = 'Earthmovng'", "category", "Earthmovng", "Earthmoving"),      # typo
    ("area = 'silo four'", "area", "silo four", "Silo 4"),                     # number word
    ("manufacturer = 'CAT'", "manufacturer", "CAT", "Caterpillar"),            # short name
    ("manufacturer IN ('Deere', 'komatsu')", "manufacturer", "Deere", "John Deere"),
])
async def test_a_literal_as_phrased_is_matched_to_the_stored_value_and_the_answer_says_so(
        db, ask, fake_llm, condition, column, phrased, stored):
    client = await ask()
    fake_llm.answer(sql_reply(f"SELECT count(*) AS n FROM pfa_merged WHERE {condition}"), Scripted(chunks=["Counts."]))
    events = await events_of(client, "how many?")
    names = [n for n, _ in events]
    assert names[-1] == "done" and "clarify" not in names
    grounding = dict(events)["grounding"]
    assert {"column": column, "from": phrased, "to": stored} in grounding
    assert f"'{stored}'" in dict(events)["sql"]["sql"] and f"'{phrased}'" not in dict(events)["sql"]["sql"]
    explanation = "".join(d["delta"] for n, d in events if n == "explanation")
    assert f"'{phrased}' matched {column} '{stored}'" in explanation
    assert f"Filters: {column}" in explanation and f"'{stored}'" in explanation.split("Filters:")[1]
    wanted = direct(db, "manufacturer IN ('John Deere', 'Komatsu')" if "IN" in condition else f"{column} = %s",
                    () if "IN" in condition else (stored,))
    assert rows_of(events) == [[wanted]] and wanted > 0
    (audit,) = audit_rows(db)
    assert audit["verdict"] == "allowed" and f"'{stored}'" in audit["executed_sql"] and audit["timings"]["grounding_ms"] >= 0
    assert {"column": column, "from": phrased, "to": stored} in [
        {k: r[k] for k in ("column", "from", "to")} for r in audit["detail"]["grounding"]["rewrites"]]


async def test_exact_values_numbers_dates_and_ids_are_left_alone(db, ask, fake_llm):
    client = await ask()
    statement = ("SELECT count(*) FROM pfa_merged WHERE category = 'Cranes' AND source = 'Rental' "
                 "AND plan_start >= '2025-01-01' AND id <> 'pfa-0000001' AND monthly_rate > 100")
    fake_llm.answer(sql_reply(statement), Scripted(chunks=["Counts."]))
    events = await events_of(client, "cranes")
    assert "grounding" not in [n for n, _ in events] and "'pfa-0000001'" in dict(events)["sql"]["sql"]
    assert audit_rows(db)[0]["detail"]["grounding"] == {"rewrites": [], "clarify": [], "bindings": []}


@pytest.mark.parametrize("condition, reason, choices", [
    ("area = 'Silo'", "ambiguous", ["Silo 1", "Silo 2", "Silo 3", "Silo 4", "Silo 5"]),
    ("category = 'Pumps'", "no_match", None),
    ("area = 'silo seven'", "no_match", None),  # ORG_B has a Silo 7; ORG_A does not
])
async def test_a_literal_that_fits_no_value_or_several_is_asked_about_and_nothing_runs(
        db, ask, fake_llm, condition, reason, choices):
    client = await ask()
    fake_llm.answer(sql_reply(f"SELECT count(*) FROM pfa_merged WHERE {condition}"))
    events = await events_of(client, "how many?")
    assert [n for n, _ in events] == ["status", "clarify", "done"]
    clarify = dict(events)["clarify"]
    (item,) = clarify["items"]
    assert item["reason"] == reason and item["from"] in condition and "Which value did you mean?" in clarify["message"]
    assert 1 <= len(item["choices"]) <= 6
    if choices:
        assert item["choices"] == choices
    with psycopg.connect(db.app) as conn:
        org_a = {r[0] for r in conn.execute("SELECT DISTINCT " + item["column"] + " FROM vanguard.pfa_mirror"
                                            " WHERE organization_id = 'ORG_A'").fetchall()}
    assert set(item["choices"]) <= org_a and "Silo 7" not in item["choices"]
    assert len(fake_llm.requests) == 1  # no explanation: nothing ran
    (audit,) = audit_rows(db)
    assert (audit["verdict"], audit["error_code"], audit["executed_sql"], audit["row_count"]) == (
        "declined", "clarify", None, None)
    assert audit["detail"]["grounding"]["clarify"] == clarify["items"] and audit["id"] == clarify["audit_id"]


async def test_a_choice_re_runs_the_question_with_that_value_bound(db, ask, fake_llm):
    client = await ask()
    statement = sql_reply("SELECT count(*) FROM pfa_merged WHERE area = 'Silo'")
    fake_llm.answer(statement, statement, Scripted(chunks=["Counts."]))
    first = await events_of(client, "how many in the silo?")
    assert "Silo 4" in dict(first)["clarify"]["items"][0]["choices"]
    events = await events_of(client, "how many in the silo?", bindings=[{"column": "area", "from": "Silo", "to": "Silo 4"}])
    assert dict(events)["grounding"] == [{"column": "area", "from": "Silo", "to": "Silo 4"}]
    assert rows_of(events) == [[direct(db, "area = 'Silo 4'", ())]]
    assert audit_rows(db)[1]["detail"]["grounding"]["bindings"] == [{"column": "area", "from": "Silo", "to": "Silo 4"}]


@pytest.mark.parametrize("bindings", [
    [{"column": "area", "from": "silo", "to": "Silo 7"}],          # another organization's value
    [{"column": "area", "from": "silo", "to": "Nowhere"}],
    [{"column": "nope", "from": "x", "to": "y"}],                 # unknown column
    [{"column": "id", "from": "x", "to": "PFA-0000001"}],         # not a grounded column
    [{"column": "area", "from": "silo", "to": "Silo 4", "extra": 1}],
    [{"column": "area", "from": "", "to": "Silo 4"}],
    [{"column": "area", "from": "s" * 201, "to": "Silo 4"}],
    [{"column": "area", "from": "silo", "to": "Silo 4"}] * 11,    # too many
    {"column": "area"},
])
async def test_bindings_are_validated_strictly(db, ask, fake_llm, bindings):
    client = await ask()
    response = await client.post("/api/ai/query", json={"org_id": "ORG_A", "question": "q", "bindings": bindings})
    assert response.status_code == 422, response.text
    assert "error" in response.json() and fake_llm.requests == [] and audit_rows(db) == []


async def test_choices_and_matches_come_from_the_callers_organization_only(db, ask, fake_llm):
    """'CAT' is one make in ORG_A (Caterpillar) and two in ORG_B (Caterpillar, Catalyst Cranes)."""
    client_a, client_b = await ask("editor_a"), await ask("editor_b")
    cat = sql_reply("SELECT count(*) FROM pfa_merged WHERE manufacturer = 'CAT'")
    fake_llm.answer(cat, Scripted(chunks=["Counts."]), cat)
    events_a = await events_of(client_a, "how many CAT machines?")
    assert dict(events_a)["grounding"] == [{"column": "manufacturer", "from": "CAT", "to": "Caterpillar"}]
    events_b = await events_of(client_b, "how many CAT machines?", org="ORG_B")
    (item,) = dict(events_b)["clarify"]["items"]
    assert sorted(item["choices"]) == ["Catalyst Cranes", "Caterpillar"]
    fake_llm.answer(sql_reply("SELECT count(*) FROM pfa_merged WHERE area = 'silo seven'"), Scripted(chunks=["x"]))
    events = await events_of(client_b, "how many in silo seven?", org="ORG_B")
    assert dict(events)["grounding"] == [{"column": "area", "from": "silo seven", "to": "Silo 7"}]
    assert rows_of(events) == [[direct(db, "area = 'Silo 7'", (), org="ORG_B")]]


async def test_the_callers_own_draft_values_count_and_other_users_drafts_do_not(db, ask, fake_llm):
    editor, admin = await ask("editor_a"), await ask("admin_a")
    response = await editor.post("/api/pfa/ORG_A/drafts", json={"record_id": "PFA-0000003",
                                                                "changes": {"area": "Silo 9"}})
    assert response.status_code == 200, response.text
    nine = sql_reply("SELECT count(*) FROM pfa_merged WHERE area = 'silo nine'")
    fake_llm.answer(nine, Scripted(chunks=["Counts."]), nine)
    mine = await events_of(editor, "how many in silo nine?")
    assert dict(mine)["grounding"] == [{"column": "area", "from": "silo nine", "to": "Silo 9"}]
    assert rows_of(mine) == [[1]]
    theirs = await events_of(admin, "how many in silo nine?")
    assert "Silo 9" not in dict(theirs)["clarify"]["items"][0]["choices"]


async def test_the_vocabulary_is_reloaded_after_a_sync_run_finishes(db, ask, fake_llm):
    client = await ask()
    reply = sql_reply("SELECT count(*) FROM pfa_merged WHERE area = 'jetty north'")
    fake_llm.answer(reply, reply, Scripted(chunks=["Counts."]))
    assert "clarify" in [n for n, _ in await events_of(client, "jetty north")]
    with psycopg.connect(db.app, autocommit=True) as conn:  # what a sync run does to the mirror
        conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"Jetty North\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000004'")
        conn.execute("INSERT INTO vanguard.sync_runs (organization_id, direction, kind, status, finished_at)"
                     " VALUES ('ORG_A', 'read', 'incremental', 'succeeded', clock_timestamp())")
    events = await events_of(client, "jetty north")
    assert dict(events)["grounding"] == [{"column": "area", "from": "jetty north", "to": "Jetty North"}]
    assert rows_of(events) == [[1]]


async def test_the_offline_provider_is_not_grounded_and_ignores_valid_bindings(db, ask, fake_llm):
    client = await ask(llm_base_url=None, llm_api_key=None, llm_provider="offline")
    events = await events_of(client, "how many cranes are rented?",
                             bindings=[{"column": "category", "from": "Crane", "to": "Cranes"}])
    names = [n for n, _ in events]
    assert names[-1] == "done" and "grounding" not in names and "clarify" not in names
    assert rows_of(events) == [[direct(db, "category = 'Cranes' AND source = 'Rental'", ())]]
