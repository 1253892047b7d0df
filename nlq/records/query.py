"""Building the list query: filters, sort and keyset conditions, composed with psycopg.sql only.

Column names come from the field registry (never from the request); values are always bound.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date

from psycopg import sql

from nlq.errors import ValidationFailed
from store.fields import BY_COLUMN, FIELDS, FieldType

LIST_COLUMNS = tuple(f.column for f in FIELDS if f.column != "data")
SORTABLE = frozenset(f.column for f in FIELDS if f.type is not FieldType.JSONB)
TEXT_FILTERS = ("category", "class", "source", "dor", "area")
BOOL_FILTERS = ("is_actualized", "is_discontinued", "has_draft")
SEARCH_COLUMNS = ("id", "class", "manufacturer", "model")
_CASTS = {FieldType.TEXT: "text", FieldType.NUMERIC: "numeric", FieldType.DATE: "date",
          FieldType.BOOLEAN: "boolean", FieldType.TIMESTAMP: "timestamptz"}


@dataclass
class ListQuery:
    text: dict[str, list[str]] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    forecast_from: date | None = None
    forecast_to: date | None = None
    search: str | None = None
    sort: str = "id"
    descending: bool = False
    limit: int = 100
    after: tuple | None = None  # (sort value, id) from the cursor


def parse_sort(value: str) -> tuple[str, bool]:
    descending = value.startswith("-")
    column = value.lstrip("-")
    if column not in SORTABLE:
        raise ValidationFailed(f"cannot sort by {column[:40]!r}", field="sort",
                               allowed=sorted(SORTABLE))
    return column, descending


def encode_cursor(sort: str, descending: bool, value, record_id: str) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    elif value is not None and not isinstance(value, (str, bool, int, float)):
        value = str(value)
    raw = json.dumps([sort, descending, value, record_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, descending: bool) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        c_sort, c_desc, value, record_id = json.loads(raw)
        if not isinstance(record_id, str):
            raise ValueError
    except (ValueError, TypeError):
        raise ValidationFailed("the cursor is not valid; start again without one", field="cursor") from None
    if (c_sort, c_desc) != (sort, descending):
        raise ValidationFailed("the cursor belongs to another sort order", field="cursor")
    return value, record_id


def where_clause(q: ListQuery) -> tuple[sql.Composable, dict]:
    parts: list[sql.Composable] = []
    params: dict = {}
    for column, values in q.text.items():
        key = f"t_{column}"
        parts.append(sql.SQL("{} = ANY({})").format(sql.Identifier(column), sql.Placeholder(key)))
        params[key] = values
    for column, flag in q.flags.items():
        key = f"b_{column}"
        parts.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(key)))
        params[key] = flag
    if q.forecast_from is not None:  # records whose forecast period overlaps [from, to]
        parts.append(sql.SQL("forecast_end >= {}").format(sql.Placeholder("forecast_from")))
        params["forecast_from"] = q.forecast_from
    if q.forecast_to is not None:
        parts.append(sql.SQL("forecast_start <= {}").format(sql.Placeholder("forecast_to")))
        params["forecast_to"] = q.forecast_to
    if q.search:
        params["search"] = "%" + q.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(
            sql.SQL("{} ILIKE {}").format(sql.Identifier(c), sql.Placeholder("search")) for c in SEARCH_COLUMNS)))
    if q.after is not None:
        parts.append(_keyset(q, params))
    if not parts:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(parts), params


def _keyset(q: ListQuery, params: dict) -> sql.Composable:
    """Rows after (value, id) in `ORDER BY col [DESC] NULLS LAST, id`."""
    value, record_id = q.after
    column = sql.Identifier(q.sort)
    params["after_id"] = record_id
    if q.sort == "id":
        op = sql.SQL("<") if q.descending else sql.SQL(">")
        return sql.SQL("id {} {}").format(op, sql.Placeholder("after_id"))
    if value is None:
        return sql.SQL("({} IS NULL AND id > {})").format(column, sql.Placeholder("after_id"))
    params["after_value"] = value
    cast = sql.SQL(_CASTS[BY_COLUMN[q.sort].type])
    op = sql.SQL("<") if q.descending else sql.SQL(">")
    return sql.SQL("({col} {op} {v}::{cast} OR ({col} = {v}::{cast} AND id > {i}) OR {col} IS NULL)").format(
        col=column, op=op, v=sql.Placeholder("after_value"), cast=cast, i=sql.Placeholder("after_id"))


def list_statement(q: ListQuery) -> tuple[sql.Composed, dict]:
    where, params = where_clause(q)
    direction = sql.SQL("DESC") if q.descending else sql.SQL("ASC")
    order = (sql.SQL("ORDER BY id {}").format(direction) if q.sort == "id" else
             sql.SQL("ORDER BY {} {} NULLS LAST, id").format(sql.Identifier(q.sort), direction))
    params["limit"] = q.limit + 1
    statement = sql.SQL("SELECT {} FROM nlq.pfa_merged {} {} LIMIT {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in LIST_COLUMNS), where, order, sql.Placeholder("limit"))
    return statement, params


def count_statement(q: ListQuery) -> tuple[sql.Composed, dict]:
    where, params = where_clause(q)
    return sql.SQL("SELECT count(*) FROM nlq.pfa_merged {}").format(where), params
