"""The NL executor's test setting: two organizations of 1,200 records, a user with one draft, a
one-connection reader pool; and `collect`, which runs a statement through `run_query`."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from store import demo_data, mirror
from store.reader import ExecutionLimits, Outcome, reset_reader_connection, run_query
from tests.helpers import add_draft, add_org, add_records, add_user


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


async def collect(pool, statement, user, limits=ExecutionLimits(), org="ORG_A", budget_statement=None):
    outcome = Outcome()
    batches = [b async for b in run_query(pool, statement, org_id=org, user_id=user, limits=limits, outcome=outcome,
                                          budget_statement=budget_statement)]
    return batches, outcome
