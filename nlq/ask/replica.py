"""NL answers on a hot standby, without ever hiding the asker's own latest drafts.

Every write of a user's drafts bumps that user's mark in the same transaction (migration: the
`draft_marks` triggers), so a replica whose copy of the mark is at least the primary's has
replayed those drafts too. Before answering on the replica, the service reads the mark on the
primary (one indexed row), and the answer's own transaction on the replica checks its copy
first (`run_query(min_mark=...)`): the check and the rows share one server and come in order, so
an answer that passed it cannot miss the drafts. A replica that is behind is given a short wait;
then, or when it cannot be reached, the primary answers, and the answer says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from store import queries
from store.reader import Batch, ExecutionLimits, Outcome, QueryError, ReplicaBehind, run_query

_Q = queries.load("replica")
RETRY_SECONDS = 0.02
log = logging.getLogger(__name__)


@dataclass
class Answered:
    """Which server answered, and why not the replica when it did not."""

    by: str = "primary"
    note: str | None = None


@dataclass
class ReplicaReads:
    """The replica pool, the primary's pools, and how long to wait for a replica that is behind."""

    replica_pool: AsyncConnectionPool
    primary_pool: AsyncConnectionPool  # the reader role on the primary: the fallback
    app_pool: AsyncConnectionPool  # reads the marks on the primary
    wait_seconds: float = 0.5
    connect_seconds: float = 1.0

    async def primary_mark(self, org_id: str, user_id: int) -> int:
        async with self.app_pool.connection() as conn:
            row = await (await conn.execute(_Q["draft_mark"], {"org": org_id, "user_id": user_id})).fetchone()
        return row[0] if row else 0

    async def lag(self) -> dict:
        """Replica lag for /health: bytes of WAL not yet replayed, seconds since the last replayed
        transaction, or why it could not be measured."""
        try:
            async with self.app_pool.connection(timeout=self.connect_seconds) as conn:
                (primary_lsn,) = await (await conn.execute(_Q["primary_position"])).fetchone()
            async with self.replica_pool.connection(timeout=self.connect_seconds) as conn:
                in_recovery, replay_lsn, replayed_at, behind_s = await (
                    await conn.execute(_Q["replica_position"])).fetchone()
        except (PoolTimeout, psycopg.Error) as exc:
            return {"status": "unreachable", "error": type(exc).__name__}
        if not in_recovery:
            return {"status": "not_a_replica"}
        return {"status": "ok", "lag_bytes": max(0, lsn_bytes(primary_lsn) - lsn_bytes(replay_lsn)),
                "seconds_since_replay": None if behind_s is None else round(float(behind_s), 3)}


async def is_replica(pool: AsyncConnectionPool) -> bool:
    """Is this pool's server a hot standby (in recovery)?"""
    async with pool.connection() as conn:
        (in_recovery,) = await (await conn.execute(_Q["in_recovery"])).fetchone()
    return bool(in_recovery)


def _unreachable(exc: QueryError) -> bool:
    """A lost connection (class 08), a server shutting down (57P) or no SQLSTATE at all: the
    server is gone, not the statement wrong."""
    state = exc.details.get("sqlstate") or ""
    return not state or state.startswith(("08", "57P"))


def lsn_bytes(lsn) -> int:
    """A pg_lsn ('16/B374D848') as a byte position."""
    high, low = str(lsn).split("/")
    return (int(high, 16) << 32) + int(low, 16)


async def routed_query(reads: ReplicaReads | None, primary_pool: AsyncConnectionPool, statement: str, *,
                       org_id: str, user_id: int, limits: ExecutionLimits, outcome: Outcome, answered: Answered,
                       budget_statement: str | None = None) -> AsyncIterator[Batch]:
    """`run_query` on the replica when it has the user's drafts, else on the primary (`answered`
    says which, and why)."""
    if reads is not None:
        needed = await reads.primary_mark(org_id, user_id)
        deadline = time.monotonic() + reads.wait_seconds
        while True:
            replica_outcome = Outcome()
            rows = run_query(reads.replica_pool, statement, org_id=org_id, user_id=user_id, limits=limits,
                             outcome=replica_outcome, budget_statement=budget_statement, min_mark=needed,
                             connect_timeout=reads.connect_seconds)
            try:
                first = await anext(rows, None)
            except ReplicaBehind:
                await rows.aclose()
                if time.monotonic() < deadline:
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                answered.note = "The replica had not replayed your latest drafts yet; the primary answered."
                break
            except (PoolTimeout, psycopg.OperationalError, QueryError) as exc:
                await rows.aclose()
                if isinstance(exc, QueryError) and not _unreachable(exc):
                    raise  # the statement itself failed: the same on any server
                log.warning("replica unavailable (%s); answering on the primary", type(exc).__name__)
                answered.note = "The read replica is unavailable; the primary answered."
                break
            answered.by = "replica"
            try:
                if first is not None:
                    yield first
                async for batch in rows:
                    yield batch
            finally:
                outcome.__dict__.update(replica_outcome.__dict__)
            return
    answered.by = "primary"
    async for batch in run_query(primary_pool, statement, org_id=org_id, user_id=user_id, limits=limits,
                                 outcome=outcome, budget_statement=budget_statement):
        yield batch
