"""Building the list query: filters, sort and keyset conditions, composed with psycopg.sql only.

Column names come from the field registry (never from the request); values are always bound.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from psycopg import sql

from nlq.errors import InvalidRequest, ValidationFailed
from store.fields import BY_COLUMN, FIELDS, FieldType

LIST_COLUMNS = tuple(f.column for f in FIELDS if f.column != "data")
SORTABLE = frozenset(f.column for f in FIELDS if f.type is not FieldType.JSONB)
TEXT_FILTERS = ("category", "class", "source", "dor", "area", "manufacturer")
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
    # The text filters' values were widened to the organization's spellings in any case
    # (`nlq.records.values.match_any_case`); the caller's drafts, which may hold new spellings, are
    # then compared with lower() on the (small) draft half.
    fold_drafts: bool = True


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
    """(sort value, record id) from a cursor this service made; InvalidRequest (422) for anything
    else — a cursor is client input, and a forged one must never reach the database as a bad value.

    >>> decode_cursor(encode_cursor("monthly_rate", True, "1250.50", "PFA-1"), "monthly_rate", True)
    ('1250.50', 'PFA-1')
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise _bad_cursor() from None
    if not isinstance(decoded, list) or len(decoded) != 4:
        raise _bad_cursor()
    c_sort, c_desc, value, record_id = decoded
    if not isinstance(c_sort, str) or not isinstance(c_desc, bool) or not _plain(record_id, 200):
        raise _bad_cursor()
    if (c_sort, c_desc) != (sort, descending):
        raise InvalidRequest("the cursor belongs to another sort order", field="cursor")
    if value is not None and not _fits(BY_COLUMN[sort].type, value):
        raise _bad_cursor()
    return value, record_id


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest("the cursor is not valid; start again without one", field="cursor")


def _plain(value, limit: int) -> bool:
    """Text PostgreSQL can hold and compare: no NUL, no lone surrogates, not longer than `limit`."""
    return (isinstance(value, str) and len(value) <= limit and "\x00" not in value
            and not any("\ud800" <= ch <= "\udfff" for ch in value))


_NUMERIC = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,3})?")


def _fits(kind: FieldType, value) -> bool:
    """Whether a cursor's sort value has the sort column's type (as `encode_cursor` writes it)."""
    if kind is FieldType.BOOLEAN:
        return isinstance(value, bool)
    if kind is FieldType.NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return False
        return bool(_NUMERIC.fullmatch(str(value))) and abs(Decimal(str(value)).adjusted()) <= 1000
    if not _plain(value, 1000):
        return False
    if kind is FieldType.DATE:
        try:
            return len(value) == 10 and date.fromisoformat(value) is not None
        except ValueError:
            return False
    if kind is FieldType.TIMESTAMP:
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return kind is FieldType.TEXT


Column = Callable[[str], sql.Composable]
_NO_FILTER = sql.SQL("")


def _named(column: str) -> sql.Composable:
    return sql.Identifier(column)


def where_clause(q: ListQuery, col: Column = _named, fold: bool = False) -> tuple[sql.Composable, dict]:
    """The filters (and keyset condition) with each column written by `col`; text compared in any
    case when `fold`."""
    parts: list[sql.Composable] = []
    params: dict = {}
    for column, values in q.text.items():
        key = f"{'f' if fold else 't'}_{column}"
        if fold:
            parts.append(sql.SQL("lower({}) = ANY({})").format(col(column), sql.Placeholder(key)))
            params[key] = [v.lower() for v in values]
        else:
            parts.append(sql.SQL("{} = ANY({})").format(col(column), sql.Placeholder(key)))
            params[key] = values
    for column, flag in q.flags.items():
        key = f"b_{column}"
        parts.append(sql.SQL("{} = {}").format(col(column), sql.Placeholder(key)))
        params[key] = flag
    if q.forecast_from is not None:  # records whose forecast period overlaps [from, to]
        parts.append(sql.SQL("{} >= {}").format(col("forecast_end"), sql.Placeholder("forecast_from")))
        params["forecast_from"] = q.forecast_from
    if q.forecast_to is not None:
        parts.append(sql.SQL("{} <= {}").format(col("forecast_start"), sql.Placeholder("forecast_to")))
        params["forecast_to"] = q.forecast_to
    if q.search:
        params["search"] = "%" + q.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(
            sql.SQL("{} ILIKE {}").format(col(c), sql.Placeholder("search")) for c in SEARCH_COLUMNS)))
    if q.after is not None:
        parts.append(_keyset(q, params, col))
    if not parts:
        return _NO_FILTER, params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(parts), params


def _keyset(q: ListQuery, params: dict, col: Column) -> sql.Composable:
    """Rows after (value, id) in `ORDER BY col [DESC] NULLS LAST, id`."""
    value, record_id = q.after
    column, ident = col(q.sort), col("id")
    params["after_id"] = record_id
    if q.sort == "id":
        op = sql.SQL("<") if q.descending else sql.SQL(">")
        return sql.SQL("{} {} {}").format(ident, op, sql.Placeholder("after_id"))
    if value is None:
        return sql.SQL("({} IS NULL AND {} > {})").format(column, ident, sql.Placeholder("after_id"))
    params["after_value"] = value
    cast = sql.SQL(_CASTS[BY_COLUMN[q.sort].type])
    op = sql.SQL("<") if q.descending else sql.SQL(">")
    return sql.SQL("({col} {op} {v}::{cast} OR ({col} = {v}::{cast} AND {id} > {i}) OR {col} IS NULL)").format(
        col=column, op=op, v=sql.Placeholder("after_value"), cast=cast, id=ident, i=sql.Placeholder("after_id"))


def _order(q: ListQuery, col: Column) -> sql.Composable:
    direction = sql.SQL("DESC") if q.descending else sql.SQL("ASC")
    if q.sort == "id":
        return sql.SQL("ORDER BY {} {}").format(col("id"), direction)
    return sql.SQL("ORDER BY {} {} NULLS LAST, {}").format(col(q.sort), direction, col("id"))


# The merged view's two halves, written against the base tables. `nlq.pfa_merged` is a security
# barrier view (for the NL reader), and the planner cannot carry an outer ORDER BY ... LIMIT into
# such a view: it sorted every matching row. Here each half is ordered and limited on its own, so
# a page reads about `limit` rows from an index (1M records / 10K drafts: 40 ms -> a few ms). A
# test keeps this equal to the view for every filter and sort.
def _mirror_column(column: str) -> sql.Composable:
    special = {"has_draft": sql.SQL("false"), "cost_variance": sql.SQL("(m.forecast_cost - m.plan_cost)")}
    return special.get(column) or sql.Identifier("m", column)


def _draft_column(column: str) -> sql.Composable:
    special = {"id": sql.Identifier("d", "record_id"), "has_draft": sql.SQL("true"),
               "cost_variance": sql.SQL("(d.forecast_cost - d.plan_cost)"),
               "last_synced_at": sql.Identifier("d", "mirror_synced_at"), "data": sql.Identifier("d", "merged")}
    return special.get(column) or sql.Identifier("d", column)


def _select(col: Column) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL("{} AS {}").format(col(c), sql.Identifier(c)) for c in LIST_COLUMNS)


def _halves(q: ListQuery, org_id: str, user_id: int, mirror_cols: sql.Composable,
            draft_cols: sql.Composable) -> tuple[sql.Composed, sql.Composed, dict]:
    mirror_where, params = where_clause(q, _mirror_column)
    draft_where, draft_params = where_clause(q, _draft_column, fold=q.fold_drafts)
    params.update(draft_params)
    params.update(org=org_id, user_id=user_id)
    mirror = sql.SQL("""SELECT {cols} FROM vanguard.pfa_mirror AS m
   {where} {glue} m.organization_id = %(org)s AND m.deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM vanguard.pfa_draft AS w
                     WHERE w.organization_id = %(org)s AND w.user_id = %(user_id)s AND w.record_id = m.id
                       AND w.state = 'draft')""").format(
        cols=mirror_cols, where=mirror_where, glue=sql.SQL("WHERE") if mirror_where == _NO_FILTER else sql.SQL("AND"))
    draft = sql.SQL("""SELECT {cols} FROM vanguard.pfa_draft AS d
   {where} {glue} d.organization_id = %(org)s AND d.user_id = %(user_id)s AND d.state = 'draft'
     AND NOT d.record_deleted""").format(
        cols=draft_cols, where=draft_where, glue=sql.SQL("WHERE") if draft_where == _NO_FILTER else sql.SQL("AND"))
    return mirror, draft, params


def list_statement(q: ListQuery, org_id: str, user_id: int) -> tuple[sql.Composed, dict]:
    """One page of the caller's merged records (scoped by parameters, not by the view's settings)."""
    mirror, draft, params = _halves(q, org_id, user_id, _select(_mirror_column), _select(_draft_column))
    params["limit"] = q.limit + 1
    statement = sql.SQL("""SELECT {outer} FROM (
  ({mirror} {mirror_order} LIMIT %(limit)s)
  UNION ALL
  ({draft} {draft_order} LIMIT %(limit)s)
) AS merged {outer_order} LIMIT %(limit)s""").format(
        outer=sql.SQL(", ").join(sql.Identifier(c) for c in LIST_COLUMNS), mirror=mirror, draft=draft,
        mirror_order=_order(q, _mirror_column), draft_order=_order(q, _draft_column), outer_order=_order(q, _named))
    return statement, params


def count_statement(q: ListQuery, org_id: str, user_id: int) -> tuple[sql.Composed, dict]:
    """How many of the caller's merged records match: the two halves counted apart and added."""
    mirror, draft, params = _halves(q, org_id, user_id, sql.SQL("count(*)"), sql.SQL("count(*)"))
    return sql.SQL("SELECT ({}) + ({})").format(mirror, draft), params


def export_statement(template: str, q: ListQuery, columns: list[str] | tuple[str, ...]) -> tuple[sql.Composed, dict]:
    """Every merged record that matches the filters, in the sort of `q`, as `template` (one of the
    `export_merged_*` queries) reads them. The scope is the view's: run it inside `nlq.db.scoped`."""
    where, params = where_clause(ListQuery(text=q.text, flags=q.flags, forecast_from=q.forecast_from,
                                           forecast_to=q.forecast_to, search=q.search))
    statement = sql.SQL(template).format(columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                                         where=where, order=_order(q, _named))
    return statement, params
