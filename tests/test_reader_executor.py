"""The executor: read-only, scoped, one statement, budgeted, batched, capped, cancellable, sanitized."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from guardrails import check
from store.fields import VIEW_COLUMNS
from store.reader import ExecutionLimits, OverBudget, QueryError, QueryTimeout, explain
from store.scope import scope_statements
from tests.reader import wait_until_no_active_reader
from tests.reader_fixtures import collect


async def test_rows_stream_in_batches_and_equal_a_direct_query(db, reader):
    pool, user = reader
    verdict = check("SELECT id, area, has_draft FROM pfa_merged ORDER BY id", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=5000)
    batches, outcome = await collect(pool, verdict.sql, user, ExecutionLimits(max_rows=5000, batch_size=500))
    assert [len(b.rows) for b in batches] == [500, 500, 200]
    rows = [tuple(r) for b in batches for r in b.rows]
    assert outcome.columns == ["id", "area", "has_draft"] and outcome.row_count == 1200 and not outcome.truncated
    assert rows[0] == ("PFA-0000001", "Drafted", True)
    with psycopg.connect(db.app) as conn:
        direct = conn.execute("SELECT id, area FROM vanguard.pfa_mirror WHERE organization_id = 'ORG_A' ORDER BY id").fetchall()
    assert [r[:2] for r in rows[1:]] == direct[1:]
    assert outcome.estimate.plan_rows > 0


async def test_the_transaction_is_read_only_and_scoped(reader):
    pool, user = reader
    # The reader may not call current_setting (it would read every setting, the version too) and
    # SHOW cannot run inside the executor's cursor; the read-only sessions are proven in
    # test_reader_role.py.
    batches, _ = await collect(pool, "SELECT count(*) FROM pfa_merged", user)
    assert batches[0].rows == [[1200]]
    with pytest.raises(QueryError) as err:
        await collect(pool, "SELECT current_setting('transaction_read_only')", user)
    assert err.value.details["sqlstate"] == "42501"
    batches, _ = await collect(pool, "SELECT DISTINCT organization_id FROM pfa_merged", None, org="ORG_B")
    assert batches[0].rows == [["ORG_B"]]


async def test_row_and_byte_caps_truncate(reader):
    pool, user = reader
    _, outcome = await collect(pool, "SELECT id FROM pfa_merged", user, ExecutionLimits(max_rows=700, batch_size=300))
    assert outcome.row_count == 700 and outcome.truncated
    _, outcome = await collect(pool, "SELECT data FROM pfa_merged", user, ExecutionLimits(max_bytes=20_000))
    assert outcome.truncated and outcome.byte_count <= 20_000 and 0 < outcome.row_count < 1200
    _, outcome = await collect(pool, "SELECT id FROM pfa_merged LIMIT 10", user)
    assert outcome.row_count == 10 and not outcome.truncated


async def test_over_budget_is_refused_before_running(reader):
    pool, user = reader
    with pytest.raises(OverBudget) as err:
        await collect(pool, "SELECT a.id FROM pfa_merged a, pfa_merged b", user, ExecutionLimits(max_cost=1000))
    assert err.value.details["estimate"]["plan_rows"] > 1000


async def test_a_long_query_times_out(reader):
    pool, user = reader
    heavy = "SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area <> c.class"
    with pytest.raises(QueryTimeout):
        await collect(pool, heavy, user, ExecutionLimits(statement_timeout_ms=200, max_cost=1e15, max_estimated_rows=1e15))
    batches, _ = await collect(pool, "SELECT 1", user)  # the pooled connection is usable afterwards
    assert batches[0].rows == [[1]]


@pytest.mark.parametrize("statement", [
    "SELECT 1; SET LOCAL app.org_id = 'ORG_B'",
    "SELECT 1; SELECT count(*) FROM pfa_merged",
])
async def test_stacked_statements_are_refused_by_the_protocol(reader, statement):
    pool, user = reader
    with pytest.raises(QueryError) as err:
        await collect(pool, statement, user)
    assert err.value.details["class"] == "42"


async def test_database_errors_never_carry_row_values(reader, app_conn):
    pool, user = reader
    app_conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"CANARY-7f3a\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000005'")
    with pytest.raises(QueryError) as err:
        await collect(pool, "SELECT area::int FROM pfa_merged WHERE id = 'PFA-0000005'", user)
    text = repr(err.value.details) + err.value.message
    assert "CANARY" not in text and err.value.details["sqlstate"] == "22P02"


async def test_a_consumer_that_goes_away_cancels_the_query(db, reader):
    pool, user = reader
    heavy = "SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area <> c.class"
    limits = ExecutionLimits(statement_timeout_ms=60_000, max_cost=1e15, max_estimated_rows=1e15)
    task = asyncio.create_task(collect(pool, heavy, user, limits))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until_no_active_reader(db.admin) == 0, "the query kept running"
    batches, _ = await collect(pool, "SELECT 2", user)
    assert batches[0].rows == [[2]]


async def test_pooled_connections_are_reset_between_uses(reader):
    pool, user = reader
    for n in range(3):  # max_size=1: the same connection, prepared statements dropped each time
        batches, _ = await collect(pool, f"SELECT {n}", user)
        assert batches[0].rows == [[n]]


async def test_the_budget_judges_the_plan_without_the_row_cap(reader):
    """A three-way self-join behind LIMIT 1000 has a tiny capped estimate; judged without the cap
    it is refused before it runs."""
    pool, user = reader
    verdict = check("SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c"
                    " WHERE a.monthly_rate + b.monthly_rate + c.monthly_rate = -1",
                    view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert verdict.allowed and "LIMIT" in verdict.sql and "LIMIT" not in verdict.budget_sql
    async with pool.connection() as conn:
        for scope in scope_statements("ORG_A", user):
            await conn.execute(scope)
        capped = await explain(conn, verdict.sql)
        await conn.rollback()
    limits = ExecutionLimits()
    assert capped.total_cost < limits.max_cost  # the old check would have let it run
    with pytest.raises(OverBudget) as err:
        await collect(pool, verdict.sql, user, limits, budget_statement=verdict.budget_sql)
    assert err.value.details["estimate"]["total_cost"] > limits.max_cost
    assert not any(ch.isdigit() for ch in err.value.message)


@pytest.mark.parametrize("statement", [
    "SELECT id FROM (SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c LIMIT 5) s",
    "SELECT a.id FROM pfa_merged a WHERE a.id IN (SELECT b.id FROM pfa_merged b, pfa_merged c, pfa_merged d"
    " WHERE b.monthly_rate > c.monthly_rate + d.monthly_rate FETCH FIRST 3 ROWS ONLY)",
    "(SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area = 'x' || c.class LIMIT 1) UNION ALL"
    " SELECT id FROM pfa_merged",
])
async def test_limits_inside_the_statement_do_not_hide_cost_either(reader, statement):
    pool, user = reader
    verdict = check(statement, view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert verdict.allowed, verdict.reasons
    with pytest.raises(OverBudget):
        await collect(pool, verdict.sql, user, budget_statement=verdict.budget_sql)


@pytest.mark.parametrize("statement, sqlstate, value", [
    ("SELECT make_date(2000, monthly_rate::int, 1) FROM pfa_merged WHERE id = 'PFA-0000005'", "22008", "68151"),
    ("SELECT (monthly_rate::int)::text::date FROM pfa_merged WHERE id = 'PFA-0000005'", "22007", "68151"),
    ("SELECT area::int FROM pfa_merged WHERE id = 'PFA-0000005'", "22P02", "CANARY-7f3a"),
    ("SELECT to_number(area, '9') / 0 FROM pfa_merged WHERE id = 'PFA-0000005'", "22", "CANARY-7f3a"),
])
async def test_database_errors_say_only_the_sqlstate_and_a_fixed_message(reader, app_conn, statement, sqlstate, value):
    pool, user = reader
    app_conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"CANARY-7f3a\", \"monthlyRate\": \"68151\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000005'")
    with pytest.raises(QueryError) as err:
        await collect(pool, statement, user)
    details = err.value.details
    assert details["sqlstate"].startswith(sqlstate) and details["class_name"] == "data_exception"
    text = repr(details) + err.value.message
    assert value not in text


async def test_the_executor_ends_any_allowed_statement_within_its_timeout(reader):
    """Heavy joins and the string growth the guardrails still allow both end at the timeout."""
    import time

    pool, user = reader
    limits = ExecutionLimits(statement_timeout_ms=400, max_cost=1e15, max_estimated_rows=1e15)
    for statement in ("SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area <> c.class",
                      "SELECT max(length(replace(replace(a.data::text, 'a', 'aaaa'), 'e', 'eeee') || b.class))"
                      " FROM pfa_merged a, pfa_merged b"):
        verdict = check(statement, view_columns=VIEW_COLUMNS, org_id="ORG_A")
        assert verdict.allowed, verdict.reasons
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            await collect(pool, verdict.sql, user, limits)
        assert time.monotonic() - started < 0.4 + 2.0


async def test_rows_folded_into_one_by_an_aggregate_still_count_against_the_budget(reader):
    """count(*) over a cartesian join answers one row; its join node is estimated at millions,
    which is what the budget judges."""
    pool, user = reader
    verdict = check("SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.id <> c.id",
                    view_columns=VIEW_COLUMNS, org_id="ORG_A")
    limits = ExecutionLimits(max_cost=1e15, max_estimated_rows=1_000_000)
    with pytest.raises(OverBudget) as err:
        await collect(pool, verdict.sql, user, limits, budget_statement=verdict.budget_sql)
    estimate = err.value.details["estimate"]
    assert estimate["plan_rows"] <= 1 and estimate["max_node_rows"] > 1_000_000
