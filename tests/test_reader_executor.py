"""The executor: read-only, scoped, one statement, budgeted, batched, capped, cancellable, sanitized."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from guardrails import check
from store import demo_data, mirror
from store.reader import ExecutionLimits, OverBudget, Outcome, QueryError, QueryTimeout, reset_reader_connection, run_query
from tests.helpers import add_draft, add_org, add_records, add_user
from tests.reader import wait_until_no_active_reader


@pytest.fixture
async def reader(db, app_conn):
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
        add_records(app_conn, list(demo_data.generate_records(org, 1200)))
    user = add_user(app_conn, "alice", {"ORG_A": "viewer"})
    add_draft(app_conn, "ORG_A", user, "PFA-0000001", {"area": "Drafted"})
    mirror.analyze(app_conn)  # as a sync does after a large change: the EXPLAIN budget needs statistics
    pool = AsyncConnectionPool(db.reader, min_size=1, max_size=1, open=False, reset=reset_reader_connection)
    await pool.open(wait=True)
    yield pool, user
    await pool.close()


async def collect(pool, statement, user, limits=ExecutionLimits(), org="ORG_A"):
    outcome = Outcome()
    batches = [b async for b in run_query(pool, statement, org_id=org, user_id=user, limits=limits, outcome=outcome)]
    return batches, outcome


async def test_rows_stream_in_batches_and_equal_a_direct_query(db, reader):
    pool, user = reader
    verdict = check("SELECT id, area, has_draft FROM pfa_merged ORDER BY id", org_id="ORG_A", max_rows=5000)
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
