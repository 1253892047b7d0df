"""Database helpers shared by routes: a transaction scoped to one organization and user, JSON values."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from store.scope import scope_statements


@contextlib.asynccontextmanager
async def scoped(pool: AsyncConnectionPool, org_id: str, user_id: int) -> AsyncIterator[AsyncConnection]:
    """A pooled connection inside a transaction whose merged view shows `org_id` with `user_id`'s drafts."""
    async with pool.connection() as conn:
        async with conn.transaction():
            for statement in scope_statements(org_id, user_id):
                await conn.execute(statement)
            yield conn


def jsonable(value):
    """Database values as JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def row_dict(columns: tuple[str, ...] | list[str], row: tuple) -> dict:
    return {c: jsonable(v) for c, v in zip(columns, row)}
