"""Financial masking: a member whose membership hides costs meets no money by any route.

Real PostgreSQL, the real app over ASGI, the real OpenAI-compatible test server. A member of
ORG_A with costs hidden (`masked_a`, an editor) is compared with an ordinary editor of the same
organization, so every assertion that money is absent is paired with one that it is there for
the other user (the masking is by membership, not by the data).
"""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from guardrails import ColumnPolicy, check
from nlq.app import create_app
from nlq.config import Settings
from nlq.guard import guard
from store import accounts
from store.fields import COST_MASKED_COLUMNS, FINANCIAL_KEYS, VIEW_COLUMNS
from tests.api_fixtures import _HASH, PASSWORD, seed
from tests.helpers import sse_events

MONEY_COLUMNS = {"monthly_rate", "purchase_price", "plan_cost", "forecast_cost", "actual_cost", "cost_variance"}
MONEY_KEYS = {"monthlyRate", "purchasePrice"}


def _money_in(value) -> set[str]:
    """Every money column or key anywhere in a JSON value."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in MONEY_COLUMNS | MONEY_KEYS:
                found.add(k)
            found |= _money_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= _money_in(v)
    return found


# -- the registry and the guardrails' column policy (pure) ------------------------------------------

def test_the_registry_marks_every_money_column_and_the_record_json():
    assert COST_MASKED_COLUMNS == MONEY_COLUMNS | {"data"}
    assert FINANCIAL_KEYS == MONEY_KEYS


@pytest.mark.parametrize("statement, column", [
    ("SELECT sum(forecast_cost) FROM pfa_merged", "forecast_cost"),
    ("SELECT p.monthly_rate FROM pfa_merged p", "monthly_rate"),
    ("SELECT id FROM pfa_merged ORDER BY purchase_price DESC", "purchase_price"),
    ("SELECT category FROM pfa_merged GROUP BY category HAVING avg(cost_variance) > 0", "cost_variance"),
    ("WITH t AS (SELECT * FROM pfa_merged) SELECT max(t.actual_cost) FROM t", "actual_cost"),
    ("SELECT x.rate FROM (SELECT plan_cost AS rate FROM pfa_merged) x", "plan_cost"),
    ("SELECT data->>'monthlyRate' FROM pfa_merged", "data"),
    ("SELECT id FROM pfa_merged WHERE monthly_rate > 1000", "monthly_rate"),
    ("SELECT id FROM pfa_merged WHERE id IN (SELECT id FROM pfa_merged WHERE purchase_price > 0)", "purchase_price"),
])
def test_a_statement_naming_a_hidden_column_is_refused_with_its_own_code(statement, column):
    verdict = guard(statement, org_id="ORG_A", sees_costs=False)
    assert not verdict.allowed
    assert [r.code for r in verdict.reasons] == ["hidden_column"]
    assert column in verdict.reasons[0].message
    assert guard(statement, org_id="ORG_A").allowed  # the same statement, costs shown


def test_star_and_whole_rows_cannot_reach_a_hidden_column():
    """`*` is allowed, but the scoped subquery it reads has only the visible columns."""
    verdict = guard("SELECT * FROM pfa_merged", org_id="ORG_A", sees_costs=False)
    assert verdict.allowed
    inner = verdict.sql.split("FROM nlq.pfa_merged")[0]
    for column in COST_MASKED_COLUMNS:
        assert f'"{column}"' not in inner
    assert '"category"' in inner and '"forecast_start"' in inner
    for statement in ("SELECT to_json(p) FROM pfa_merged p", "SELECT p FROM pfa_merged p",
                      "SELECT row_to_json(t) FROM (SELECT * FROM pfa_merged) t"):
        assert not guard(statement, org_id="ORG_A", sees_costs=False).allowed


def test_a_column_a_query_defines_itself_is_not_hidden():
    verdict = guard("WITH t AS (SELECT count(*) AS forecast_cost FROM pfa_merged) SELECT forecast_cost FROM t",
                    org_id="ORG_A", sees_costs=False)
    assert verdict.allowed


def test_the_policy_is_checked_for_its_type_and_folds_names():
    policy = ColumnPolicy(hidden=frozenset({"Monthly_Rate"}))
    verdict = check("SELECT monthly_rate FROM pfa_merged", org_id="ORG_A", view_columns=VIEW_COLUMNS, policy=policy)
    assert [r.code for r in verdict.reasons] == ["hidden_column"]
    with pytest.raises(TypeError):
        check("SELECT 1", org_id="ORG_A", view_columns=VIEW_COLUMNS, policy={"monthly_rate"})


# -- every route of the service ----------------------------------------------------------------------

@pytest.fixture
async def masked(db, fake_llm):
    """The app on a seeded database, with `masked_a` (editor of ORG_A, costs hidden); yields a
    function that returns a logged-in client for a username."""
    seed(db.app)
    with psycopg.connect(db.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "masked_a", _HASH, "Masked A")
        accounts.upsert_membership(conn, user_id, "ORG_A", "editor")
        assert accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    app = create_app(Settings(llm_base_url=fake_llm.base_url, llm_api_key="test"), db)
    clients: list[httpx.AsyncClient] = []
    async with app.router.lifespan_context(app):
        async def client_for(username: str) -> httpx.AsyncClient:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30)
            token = (await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            clients.append(client)
            return client

        yield client_for
        for client in clients:
            await client.aclose()


async def test_records_list_record_and_export_carry_no_money(masked):
    hidden, shown = await masked("masked_a"), await masked("editor_a")
    for client, expect_money in ((hidden, False), (shown, True)):
        page = (await client.get("/api/pfa/ORG_A", params={"limit": 20})).json()
        assert page["items"]
        assert bool(_money_in(page["items"])) is expect_money
        record_id = page["items"][0]["id"]
        record = (await client.get(f"/api/pfa/ORG_A/records/{record_id}")).json()
        assert record["id"] == record_id and record["data"]["pfaId"] == record_id
        assert bool(_money_in(record)) is expect_money
        export = await client.get("/api/pfa/ORG_A/export")
        assert export.status_code == 200
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert len(lines) == 200
        assert bool(_money_in(lines)) is expect_money


async def test_sorting_by_money_is_refused_for_a_masked_member(masked):
    hidden, shown = await masked("masked_a"), await masked("editor_a")
    refused = await hidden.get("/api/pfa/ORG_A", params={"sort": "-forecast_cost"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "costs_hidden"
    assert (await shown.get("/api/pfa/ORG_A", params={"sort": "-forecast_cost"})).status_code == 200
    assert (await hidden.get("/api/pfa/ORG_A", params={"sort": "forecast_start"})).status_code == 200


async def test_kpis_keep_counts_and_lose_money(masked):
    hidden, shown = await masked("masked_a"), await masked("editor_a")
    masked_kpis, full_kpis = (await hidden.get("/api/pfa/ORG_A/kpis")).json(), (await shown.get("/api/pfa/ORG_A/kpis")).json()
    assert not _money_in(masked_kpis)
    assert _money_in(full_kpis)
    assert masked_kpis["totals"]["records"] == full_kpis["totals"]["records"] == 200
    assert [g["records"] for g in masked_kpis["groups"]] == [g["records"] for g in full_kpis["groups"]]


async def test_a_masked_editor_can_edit_dates_but_not_money_and_sees_no_money_in_drafts(masked, db):
    hidden = await masked("masked_a")
    record_id = (await hidden.get("/api/pfa/ORG_A", params={"limit": 1, "is_actualized": "false"})).json()["items"][0]["id"]
    refused = await hidden.post("/api/pfa/ORG_A/drafts",
                                json={"record_id": record_id, "changes": {"monthlyRate": 1, "forecastEnd": "2031-01-01"}})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "costs_hidden"
    batch = await hidden.post("/api/pfa/ORG_A/drafts/batch", json={"items": [
        {"record_id": record_id, "changes": {"forecastEnd": "2031-01-01"}},
        {"record_id": record_id, "changes": {"purchasePrice": 5}}]})
    assert batch.status_code == 403
    with psycopg.connect(db.app) as conn:  # nothing was saved by either refusal
        assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft").fetchone()[0] == 0
    saved = await hidden.post("/api/pfa/ORG_A/drafts", json={"record_id": record_id,
                                                             "changes": {"forecastEnd": "2031-01-01"}})
    assert saved.status_code == 200, saved.text
    drafts = (await hidden.get("/api/pfa/ORG_A/drafts")).json()["items"]
    assert [d["record_id"] for d in drafts] == [record_id]
    assert not _money_in(drafts)
    record = (await hidden.get(f"/api/pfa/ORG_A/records/{record_id}")).json()
    assert record["draft"]["delta"] == {"forecastEnd": "2031-01-01"} and not _money_in(record)


async def _events(client, path: str, body: dict) -> list[tuple[str, dict]]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return sse_events(response.text)


async def test_nl_answers_never_carry_money_and_the_prompt_leaves_it_out(masked, fake_llm):
    hidden, shown = await masked("masked_a"), await masked("editor_a")
    fake_llm.answer('{"sql": "SELECT * FROM pfa_merged ORDER BY id LIMIT 5", "explanation": "all columns"}')
    events = await _events(hidden, "/api/ai/query", {"org_id": "ORG_A", "question": "show me five records"})
    columns = next(d["columns"] for n, d in events if n == "rows" and "columns" in d)
    assert "category" in columns and not set(columns) & COST_MASKED_COLUMNS
    sql_prompt = fake_llm.requests[0]["messages"]
    assert "monthly_rate" not in json.dumps(sql_prompt) and "forecast_cost" not in json.dumps(sql_prompt)
    assert "forecast_start" in json.dumps(sql_prompt)

    fake_llm.requests.clear()
    fake_llm.answer('{"sql": "SELECT sum(forecast_cost) FROM pfa_merged", "explanation": "total"}')
    events = await _events(hidden, "/api/ai/query", {"org_id": "ORG_A", "question": "total forecast cost"})
    errors = [d for n, d in events if n == "error"]
    assert errors and errors[0]["code"] == "costs_hidden"
    assert not [n for n, _ in events if n == "rows"]
    assert len([r for r in fake_llm.requests if "sql" in json.dumps(r).lower()]) == 1  # no repair round

    fake_llm.answer('{"sql": "SELECT sum(forecast_cost) FROM pfa_merged", "explanation": "total"}')
    events = await _events(shown, "/api/ai/query", {"org_id": "ORG_A", "question": "total forecast cost"})
    assert any(n == "summary" for n, _ in events)


async def test_the_offline_parser_and_bulk_edits_respect_the_mask(db, fake_llm):
    seed(db.app)
    with psycopg.connect(db.app, autocommit=True) as conn:
        user_id = accounts.insert_user(conn, "masked_a", _HASH, "Masked A")
        accounts.upsert_membership(conn, user_id, "ORG_A", "editor")
        accounts.set_cost_visibility(conn, user_id, "ORG_A", False)
    app = create_app(Settings(), db)  # no LLM configured: the offline provider
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as client:
            token = (await client.post("/api/auth/login", json={"username": "masked_a", "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            events = await _events(client, "/api/ai/query", {"org_id": "ORG_A",
                                                            "question": "total forecast cost by category"})
            assert [d["code"] for n, d in events if n == "error"] == ["costs_hidden"]
            events = await _events(client, "/api/ai/query", {"org_id": "ORG_A", "question": "how many cranes"})
            assert any(n == "summary" for n, _ in events), events
            events = await _events(client, "/api/ai/bulk", {"org_id": "ORG_A",
                                                           "request": "scale the monthly rate of all cranes by 10%"})
            errors = [d for n, d in events if n == "error"]
            assert errors and not _money_in([d for n, d in events if n != "error"])
            with psycopg.connect(db.app) as conn:
                assert conn.execute("SELECT count(*) FROM vanguard.pfa_draft").fetchone()[0] == 0


async def test_change_sets_and_commits_show_no_money_to_a_masked_member(masked, db):
    """A change set proposed before the mask was set still shows no money once it is."""
    shown = await masked("editor_a")
    record_id = (await shown.get("/api/pfa/ORG_A", params={"limit": 1, "source": "Rental"})).json()["items"][0]["id"]
    saved = await shown.post("/api/pfa/ORG_A/drafts", json={"record_id": record_id,
                                                            "changes": {"monthlyRate": 4321, "forecastEnd": "2031-02-02"}})
    assert saved.status_code == 200, saved.text
    with psycopg.connect(db.app, autocommit=True) as conn:
        editor = accounts.find_user_by_username(conn, "editor_a")
        accounts.set_cost_visibility(conn, editor[0], "ORG_A", False)
    now_masked = await masked("editor_a")  # a new request reads the membership afresh
    drafts = (await now_masked.get("/api/pfa/ORG_A/drafts")).json()["items"]
    assert drafts[0]["delta"] == {"forecastEnd": "2031-02-02"}
    record = (await now_masked.get(f"/api/pfa/ORG_A/records/{record_id}")).json()
    assert not _money_in(record)



async def test_a_change_set_read_after_the_mask_shows_its_items_without_money(db):
    """A change set that moves a rate, proposed while the editor saw costs: once the mask is set it
    still opens (not a server error), with every item and no money."""
    seed(db.app)
    app = create_app(Settings(), db)  # the offline provider proposes the change set
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as client:
            token = (await client.post("/api/auth/login", json={"username": "editor_a", "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            events = await _events(client, "/api/ai/bulk", {"org_id": "ORG_A",
                                                           "request": "scale the monthly rate of all cranes by 10%"})
            change_set_id = next(d for n, d in events if n == "summary")["change_set_id"]
            path = f"/api/pfa/ORG_A/change-sets/{change_set_id}"
            before = (await client.get(path)).json()
            assert any(f["field"] == "monthlyRate" for item in before["items"] for f in item["fields"])
            with psycopg.connect(db.app, autocommit=True) as conn:
                editor = accounts.find_user_by_username(conn, "editor_a")
                accounts.set_cost_visibility(conn, editor[0], "ORG_A", False)
            response = await client.get(path)
            assert response.status_code == 200, response.text
            after = response.json()
            assert len(after["items"]) == len(before["items"]) and not _money_in(after)
