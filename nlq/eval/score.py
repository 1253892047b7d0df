"""Scoring one answer against its gold rows: right, declined, wrong or error, with a short diff.

Column names never decide anything (answers name their columns as they like): each gold column is
matched to an answer column holding the same values, then the projected rows must equal the gold
rows as a multiset (order-free). Extra answer columns are fine; a missing or extra row is not.
Numbers are compared rounded to 2 decimals (a one-cent difference from rounding the other way is
tolerated), dates as ISO text (a timestamp at midnight is its date), text case-sensitively.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# Error codes that mean "the service chose not to answer", as opposed to failing while answering.
DECLINE_CODES = frozenset({"not_understood", "declined", "llm_unavailable", "rejected", "clarify"})
VERDICTS = ("right", "declined", "wrong", "error")
_TOLERANCE = 0.010001
_MAX_ASSIGNMENTS = 5000
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(?:\.0+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$")


@dataclass
class Table:
    """Rows as the service streams them (or as the gold statement returned them)."""

    columns: list[str]
    rows: list[list]
    truncated: bool = False


@dataclass
class Answer:
    """What the service said about one question."""

    sql: str | None = None
    table: Table | None = None
    error_code: str | None = None
    error_message: str | None = None
    timings: dict = field(default_factory=dict)


@dataclass
class Score:
    verdict: str  # one of VERDICTS
    diff: str = ""
    mapping: dict[str, str] = field(default_factory=dict)  # gold column -> answer column


def normalize(value) -> tuple:
    """A comparable form of one value: (type rank, value).

    >>> normalize(Decimal("12.345")), normalize(12.35), normalize(3)
    ((1, 12.35), (1, 12.35), (1, 3.0))
    >>> normalize(date(2027, 1, 1)) == normalize("2027-01-01T00:00:00+00:00") == (3, "2027-01-01")
    True
    >>> normalize(True), normalize(None), normalize("Cranes")
    ((2, True), (0, None), (3, 'Cranes'))
    """
    if value is None:
        return (0, None)
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return (0, None)  # JSON has no NaN or infinity; the service sends null
        return (1, round(number, 2) + 0.0)  # + 0.0: -0.0 is 0.0
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return (3, value.date().isoformat())
        return (3, value.isoformat())
    if isinstance(value, date):
        return (3, value.isoformat())
    text = str(value)
    midnight = _MIDNIGHT.match(text)
    return (3, midnight.group(1) if midnight else text)


def _close(a: tuple, b: tuple) -> bool:
    if a[0] == 1 and b[0] == 1:
        return abs(a[1] - b[1]) <= _TOLERANCE
    return a == b


def _rows_close(a: tuple, b: tuple) -> bool:
    return all(_close(x, y) for x, y in zip(a, b))


def _same_multiset(gold: list[tuple], answer: list[tuple]) -> bool:
    """Equal as multisets: exactly on rounded values, else within a cent per number."""
    if Counter(gold) == Counter(answer):
        return True
    ordered_gold, ordered_answer = sorted(gold), sorted(answer)
    if all(_rows_close(g, a) for g, a in zip(ordered_gold, ordered_answer)):
        return True
    if len(gold) > 2000:
        return False
    unmatched = list(answer)
    for row in gold:  # the sorted pairing can miss a match when near-equal numbers reorder rows
        for i, candidate in enumerate(unmatched):
            if _rows_close(row, candidate):
                del unmatched[i]
                break
        else:
            return False
    return True


def _shown(value: tuple) -> str:
    kind, v = value
    if v is None:
        return "NULL"
    if kind == 1:
        return str(int(v)) if v.is_integer() else f"{v:.2f}"
    return str(v)


def _preview(rows: list[tuple], limit: int = 3) -> str:
    shown = ["(" + ", ".join(_shown(v) for v in row) + ")" for row in rows[:limit]]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(shown) + more


def score(gold: Table, answer: Answer) -> Score:
    """The verdict on `answer` given the gold rows; `diff` says briefly what differs."""
    if answer.error_code is not None:
        verdict = "declined" if answer.error_code in DECLINE_CODES else "error"
        return Score(verdict, f"{answer.error_code}: {answer.error_message or ''}".strip())
    table = answer.table
    if table is None or not table.columns:
        return Score("wrong", "the answer has no columns")
    if len(table.rows) != len(gold.rows):
        extra = " (truncated)" if table.truncated else ""
        return Score("wrong", f"{len(table.rows)} row(s){extra}, expected {len(gold.rows)}")
    gold_rows = [tuple(normalize(v) for v in row) for row in gold.rows]
    answer_rows = [tuple(normalize(v) for v in row) for row in table.rows]
    candidates = []
    for g, name in enumerate(gold.columns):
        wanted = sorted(row[g] for row in gold_rows)
        found = [a for a in range(len(table.columns))
                 if all(_close(x, y) for x, y in zip(wanted, sorted(row[a] for row in answer_rows)))]
        if not found:
            values = _preview([(v,) for v in wanted], 5)
            return Score("wrong", f"no answer column holds the values of gold column {name!r} ({values}); "
                                  f"answer columns: {', '.join(table.columns)}")
        candidates.append(found)
    tried = 0
    for assignment in _assignments(candidates):
        tried += 1
        if tried > _MAX_ASSIGNMENTS:
            break
        projected = [tuple(row[a] for a in assignment) for row in answer_rows]
        if _same_multiset(gold_rows, projected):
            return Score("right", mapping={gold.columns[g]: table.columns[a] for g, a in enumerate(assignment)})
    first = next(_assignments(candidates), None)
    if first is None:
        return Score("wrong", "two gold columns would need the same answer column")
    projected = [tuple(row[a] for a in first) for row in answer_rows]
    missing = list((Counter(gold_rows) - Counter(projected)).elements())
    extra = list((Counter(projected) - Counter(gold_rows)).elements())
    return Score("wrong", f"columns match one by one but not row by row: missing {_preview(missing)}; "
                          f"unexpected {_preview(extra)}")


def _assignments(candidates: list[list[int]], chosen: tuple[int, ...] = ()):
    """Every way to give each gold column its own answer column among its candidates."""
    if len(chosen) == len(candidates):
        yield chosen
        return
    for column in candidates[len(chosen)]:
        if column not in chosen:
            yield from _assignments(candidates, chosen + (column,))
