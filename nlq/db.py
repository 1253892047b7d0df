"""Database helpers shared by routes: a transaction scoped to one organization and user, JSON values."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal

from psycopg import AsyncConnection, AsyncCursor
from psycopg.adapt import Loader
from psycopg.types.datetime import DateLoader, TimestamptzLoader
from psycopg_pool import AsyncConnectionPool

from store.scope import SET_SCOPE, scope_params

_ISO_TIMESTAMPTZ = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?$")


@contextlib.asynccontextmanager
async def scoped(pool: AsyncConnectionPool, org_id: str, user_id: int) -> AsyncIterator[AsyncConnection]:
    """A pooled connection inside a transaction whose merged view shows `org_id` with `user_id`'s drafts."""
    async with pool.connection() as conn:
        async with conn.transaction():
            await conn.execute(SET_SCOPE, scope_params(org_id, user_id))
            yield conn


class _JsonNumberLoader(Loader):
    """numeric text straight to int or float (what `jsonable` makes of a Decimal, without the Decimal)."""

    def load(self, data):
        text = bytes(data)
        if b"." not in text:  # no exception raised for the usual '1234.56': it cost half the loader's time
            try:
                return int(text)
            except ValueError:
                pass
        number = float(text)  # decimals, exponents, and PostgreSQL's NaN / Infinity
        if number.is_integer():
            return int(number)
        return number if math.isfinite(number) else None  # JSON has no NaN or Infinity


class _JsonDateLoader(DateLoader):
    """A date as PostgreSQL writes it in ISO DateStyle is already YYYY-MM-DD; other styles are parsed."""

    def load(self, data):
        text = bytes(data)
        if len(text) == 10 and text[4:5] == b"-":
            return text.decode()
        return super().load(data).isoformat()


class _JsonTimestamptzLoader(TimestamptzLoader):
    """PostgreSQL's ISO text ('2026-12-01 18:23:09.66046+00') rewritten as `isoformat()` writes it,
    without building a datetime: that cost about 15 us a value, a page of 100 records 1.5 ms."""

    def load(self, data):
        text = bytes(data).decode()
        match = _ISO_TIMESTAMPTZ.match(text)
        if match is None:  # another DateStyle, BC dates, infinity: parsed the slow way
            return super().load(data).isoformat()
        day, clock, fraction, sign, hours, minutes = match.groups()
        fraction = "" if not fraction or not fraction.strip("0") else "." + fraction.ljust(6, "0")
        return f"{day}T{clock}{fraction}{sign}{hours}:{minutes or '00'}"


def json_cursor(conn: AsyncConnection) -> AsyncCursor:
    """A cursor whose values are JSON-ready as loaded: on a page of 100 records, converting every
    value afterwards (`jsonable`) cost more than the rest of the request's Python work."""
    cursor = conn.cursor()
    cursor.adapters.register_loader("numeric", _JsonNumberLoader)
    cursor.adapters.register_loader("date", _JsonDateLoader)
    cursor.adapters.register_loader("timestamptz", _JsonTimestamptzLoader)
    return cursor


def jsonable(value):
    """Database values as JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def row_dict(columns: tuple[str, ...] | list[str], row: tuple) -> dict:
    return {c: jsonable(v) for c, v in zip(columns, row)}
