"""The executor line of defence: how guardrail-approved SQL runs under the reader role.

Every use of a reader connection: a READ ONLY transaction that is always rolled back, the
organization and user set transaction-locally, a statement timeout, an EXPLAIN budget check,
the statement through the extended protocol (a prepared DECLARE, which cannot carry a second
statement), rows fetched in batches from a server-side cursor with a row and byte cap. Errors
come back typed, with the database's text reduced so no value from a row can leak through it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import psycopg
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from store.errors import StoreError
from store.scope import scope_statements
from store.sqlstate import describe_sqlstate

_CURSOR = sql.Identifier("nlq_answer")


class QueryError(StoreError):
    """The query could not be run."""

    code = "db_error"


class OverBudget(QueryError):
    """The query would be too expensive to run; narrow it down."""

    code = "over_budget"


class QueryTimeout(QueryError):
    """The query took longer than allowed and was cancelled."""

    code = "timeout"


class ReplicaBehind(QueryError):
    """The replica has not replayed the caller's latest drafts yet."""

    code = "replica_behind"


_MY_MARK = sql.SQL("SELECT nlq.my_draft_mark()")


@dataclass(frozen=True)
class ExecutionLimits:
    statement_timeout_ms: int = 5000
    max_rows: int = 1000
    max_bytes: int = 4_000_000
    batch_size: int = 500
    max_cost: float = 2_000_000.0
    max_estimated_rows: float = 5_000_000.0


@dataclass
class Estimate:
    """The planner's estimate: the top node's cost and rows, and the most rows any node (a join
    inside a subquery, an InitPlan) is expected to produce, which the top hides when an
    aggregate or ARRAY(...) folds them into one row."""

    total_cost: float
    plan_rows: float
    max_node_rows: float = 0.0

    def as_dict(self) -> dict:
        return {"total_cost": self.total_cost, "plan_rows": self.plan_rows, "max_node_rows": self.max_node_rows}


@dataclass
class Batch:
    columns: list[str]
    rows: list[list]


@dataclass
class Outcome:
    """Filled in while rows stream; final once the generator is exhausted."""

    estimate: Estimate | None = None
    row_count: int = 0
    byte_count: int = 0
    truncated: bool = False
    columns: list[str] = field(default_factory=list)


def sanitize_error(exc: psycopg.Error) -> dict:
    """SQLSTATE, its class and class name, and a fixed message for that SQLSTATE: nothing of the
    server's text, which can carry values from rows (see `store.sqlstate`).

    >>> class Diag: message_primary = 'date field value out of range: 2000-68150-01'
    >>> class E(psycopg.Error): sqlstate = "22008"; diag = Diag()
    >>> sanitize_error(E())
    {'sqlstate': '22008', 'class': '22', 'class_name': 'data_exception', 'reason': 'a date or time computation went out of range'}
    """
    return describe_sqlstate(getattr(exc, "sqlstate", None))


async def explain(conn: AsyncConnection, statement: str) -> Estimate:
    query = sql.SQL("EXPLAIN (FORMAT JSON) {}").format(sql.SQL(statement))
    plan = (await (await conn.execute(query, prepare=True)).fetchone())[0][0]["Plan"]
    return Estimate(total_cost=float(plan["Total Cost"]), plan_rows=float(plan["Plan Rows"]),
                    max_node_rows=_max_node_rows(plan))


def _max_node_rows(plan: dict) -> float:
    """The largest "Plan Rows" of any node, walking every child plan (subplans and InitPlans too)."""
    largest, pending = 0.0, [plan]
    while pending:
        node = pending.pop()
        largest = max(largest, float(node.get("Plan Rows", 0)))
        pending.extend(node.get("Plans", ()))
    return largest


async def run_query(pool: AsyncConnectionPool, statement: str, *, org_id: str, user_id: int | None,
                    limits: ExecutionLimits, outcome: Outcome,
                    budget_statement: str | None = None, min_mark: int | None = None,
                    connect_timeout: float | None = None) -> AsyncIterator[Batch]:
    """Yield batches of rows of `statement` (guardrail output), filling `outcome` as it goes.

    The EXPLAIN budget judges `budget_statement` (the guardrails' `budget_sql`: the statement
    without its LIMITs) when given, because a LIMIT scales the estimate of whatever runs beneath
    it down to almost nothing. Raises OverBudget before running anything heavy (its message has
    no numbers: planner statistics span every organization; the estimate is in `details` for the
    audit), QueryTimeout when the statement timeout
    fires, QueryError (with a sanitized message in `details`) for anything else the database
    refuses. Closing the generator early (a client that went away) cancels the query.
    With `min_mark` (a replica), the transaction first checks that the server has replayed the
    caller's drafts up to that mark and raises ReplicaBehind before anything else if not.
    """
    async with pool.connection(timeout=connect_timeout) as conn:
        await conn.set_read_only(True)  # BEGIN READ ONLY; the role's default says the same
        try:
            async with conn.transaction(force_rollback=True):
                for scope in scope_statements(org_id, user_id):
                    await conn.execute(scope)
                if min_mark is not None:
                    (mark,) = await (await conn.execute(_MY_MARK)).fetchone()
                    if mark < min_mark:
                        raise ReplicaBehind("The replica has not replayed your latest drafts yet.")
                await conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(int(limits.statement_timeout_ms))))
                outcome.estimate = await explain(conn, budget_statement or statement)
                if (outcome.estimate.total_cost > limits.max_cost
                        or max(outcome.estimate.plan_rows, outcome.estimate.max_node_rows) > limits.max_estimated_rows):
                    raise OverBudget("The query would be too expensive to run; add filters, aggregate, "
                                     "or avoid joining the records with themselves.",
                                     estimate=outcome.estimate.as_dict())
                await conn.execute(sql.SQL("DECLARE {} NO SCROLL CURSOR FOR {}").format(_CURSOR, sql.SQL(statement)),
                                   prepare=True)
                fetch = sql.SQL("FETCH FORWARD {} FROM {}").format(sql.Literal(int(limits.batch_size)), _CURSOR)
                async for batch in _fetch_batches(conn, fetch, limits, outcome):
                    yield batch
        except psycopg.errors.QueryCanceled as exc:
            raise QueryTimeout(f"The query ran longer than {limits.statement_timeout_ms / 1000:g} s.",
                               **sanitize_error(exc)) from None
        except psycopg.Error as exc:
            details = sanitize_error(exc)
            raise QueryError(f"The database refused the query ({details['sqlstate']} {details['class_name']}): "
                             f"{details['reason']}.", **details) from None


async def _fetch_batches(conn: AsyncConnection, fetch: sql.Composed, limits: ExecutionLimits,
                         outcome: Outcome) -> AsyncIterator[Batch]:
    while True:
        cur = await conn.execute(fetch)
        if not outcome.columns and cur.description:
            outcome.columns = [d.name for d in cur.description]
        rows = [list(r) for r in await cur.fetchall()]
        if not rows:
            return
        room = limits.max_rows - outcome.row_count
        if len(rows) > room:
            rows, outcome.truncated = rows[:room], True
        size = len(orjson.dumps(rows, default=str))
        if outcome.byte_count + size > limits.max_bytes:
            kept = []
            for row in rows:
                row_size = len(orjson.dumps(row, default=str))
                if outcome.byte_count + row_size > limits.max_bytes:
                    break
                kept.append(row)
                outcome.byte_count += row_size
            rows, outcome.truncated = kept, True
        else:
            outcome.byte_count += size
        outcome.row_count += len(rows)
        if rows:
            yield Batch(columns=outcome.columns, rows=rows)
        if outcome.truncated or outcome.row_count >= limits.max_rows:
            outcome.truncated = outcome.truncated or bool((await (await conn.execute(
                sql.SQL("FETCH FORWARD 1 FROM {}").format(_CURSOR))).fetchall()))
            return


async def reset_reader_connection(conn: AsyncConnection) -> None:
    """Pool reset callback: whatever a statement managed to change in the session is dropped."""
    await conn.set_autocommit(True)  # DISCARD ALL cannot run inside a transaction block
    await conn.execute("DISCARD ALL")
    await conn.set_autocommit(False)
