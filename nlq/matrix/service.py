"""The cost matrix computed by PostgreSQL (`store/sql/matrix.sql`), shaped for the API, the page and CSV."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from nlq.db import json_cursor
from nlq.draft_moves import compact_if_grown
from nlq.errors import ValidationFailed
from store import queries

_Q = queries.load("matrix")
DIMENSIONS = ("category", "area", "class")
MEASURES = ("plan", "forecast", "actual", "variance")
COLUMNS = {"plan": "plan_cost", "forecast": "forecast_cost", "actual": "actual_cost", "variance": "cost_variance"}
LENGTHS = (3, 6, 12, 18, 24, 36)
MAX_MONTHS = 36  # three years of columns: wider is unreadable, and each month is a column of work
DEFAULT_MONTHS = 12
COMPACT_AFTER = 2000  # rows of draft moves added per user before they are summed into one per group and month
_FIGURES = tuple(COLUMNS.values())
_COMPACTION = ("matrix_delta_rows_added", "compact_matrix_deltas", "record_matrix_compaction")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MatrixWindow:
    """The months shown: `months` columns from the first day of `first`."""

    first: date
    months: int

    @property
    def last(self) -> date:
        return add_months(self.first, self.months - 1)

    def month_starts(self) -> list[date]:
        return [add_months(self.first, k) for k in range(self.months)]


def add_months(day: date, count: int) -> date:
    """The first day of the month `count` months after `day`'s.

    >>> add_months(date(2026, 11, 15), 3)
    datetime.date(2027, 2, 1)
    >>> add_months(date(2026, 1, 1), -1)
    datetime.date(2025, 12, 1)
    """
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    """`YYYY-MM` as the first day of that month; anything else is the caller's 422.

    >>> parse_month("2026-03")
    datetime.date(2026, 3, 1)
    """
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2999:
        raise ValidationFailed(f"from: {text!r} is not a month; write it as YYYY-MM, e.g. 2026-03.", field="from")
    return date(int(match.group(1)), int(match.group(2)), 1)


def check_choice(name: str, value: str, allowed: tuple) -> str:
    if value not in allowed:
        raise ValidationFailed(f"{name}: {value!r} is not one of {', '.join(allowed)}.", field=name)
    return value


def default_window(bounds: dict, today: date, months: int = DEFAULT_MONTHS) -> MatrixWindow:
    """Where a planner looks first: `months` months from the current one, moved inside the forecast span.

    An organization whose work lies wholly in the future starts at its first forecast month; one
    whose work is over ends at its last forecast month.

    >>> span = {"forecast_start": "2027-05-10", "forecast_end": "2029-01-31"}
    >>> default_window(span, date(2026, 12, 1)).first
    datetime.date(2027, 5, 1)
    >>> default_window(span, date(2030, 6, 1)).first
    datetime.date(2028, 2, 1)
    >>> default_window(span, date(2028, 1, 20)).first
    datetime.date(2028, 1, 1)
    >>> default_window({}, date(2026, 12, 9)).first
    datetime.date(2026, 12, 1)
    """
    first = add_months(today, 0)
    start, end = bounds.get("forecast_start"), bounds.get("forecast_end")
    if end and add_months(date.fromisoformat(str(end)), 0) < add_months(first, months - 1):
        first = add_months(date.fromisoformat(str(end)), 1 - months)
    if start and first < add_months(date.fromisoformat(str(start)), 0):
        first = add_months(date.fromisoformat(str(start)), 0)
    return MatrixWindow(first, months)


def resolve_window(first: str | None, months: int | None, bounds: dict, today: date) -> MatrixWindow:
    """The window a request asked for, or the default one; more than MAX_MONTHS is refused, not cut."""
    length = DEFAULT_MONTHS if months is None else months
    if not 1 <= length <= MAX_MONTHS:
        raise ValidationFailed(f"months: {length} is out of range; show 1 to {MAX_MONTHS} months at a time.",
                               field="months")
    if first is None:
        return default_window(bounds, today, length)
    return MatrixWindow(parse_month(first), length)


async def cost_matrix(conn, org_id: str, user_id: int, by: str, window: MatrixWindow,
                      compact_after: int = COMPACT_AFTER) -> dict:
    """Every group's cost per month for all measures, with totals; groups with no cost in the window are left out."""
    params = {"org": org_id, "user_id": user_id, "by": by, "first": window.first, "last": window.last}
    await compact_if_grown(conn, _Q, _COMPACTION, params, compact_after)
    cursor = json_cursor(conn)  # numbers and dates loaded JSON-ready: no per-value conversion afterwards
    rows = await (await cursor.execute(_Q["matrix_cells"], params)).fetchall()
    (drafts,) = await (await conn.execute(_Q["working_draft_count"], params)).fetchone()
    months = [m.isoformat()[:7] for m in window.month_starts()]
    index = {m.isoformat(): i for i, m in enumerate(window.month_starts())}
    zero = {c: 0 for c in COLUMNS.values()}
    groups: dict[str, dict] = {}
    column_totals = [dict(zero) for _ in months]
    total = dict(zero)
    for label, month, *values in rows:
        figures = dict(zip(_FIGURES, values))
        if label is None and month is None:
            total = figures
        elif label is None:
            column_totals[index[month]] = figures
        else:
            group = groups.get(label)
            if group is None:  # not setdefault: its default (a row of empty cells) would be built per cell
                group = groups[label] = {"label": label, "cells": [dict(zero) for _ in months], "total": dict(zero)}
            if month is None:
                group["total"] = figures
            else:
                group["cells"][index[month]] = figures
    kept = [g for g in groups.values() if any(g["total"][c] for c in ("plan_cost", "forecast_cost", "actual_cost"))
            or any(v for cell in g["cells"] for v in cell.values())]
    return {"by": by, "months": months, "first": months[0], "length": window.months, "rows": kept,
            "totals": column_totals, "total": total, "drafts_applied": drafts}


def csv_rows(matrix: dict, measure: str):
    """The matrix of one measure as a table: a header, one row per group, then the month totals."""
    column = COLUMNS[measure]
    yield [matrix["by"], *matrix["months"], "total"]
    for row in matrix["rows"]:
        yield [row["label"] or "(none)", *(cell[column] for cell in row["cells"]), row["total"][column]]
    yield ["total", *(cell[column] for cell in matrix["totals"]), matrix["total"][column]]
