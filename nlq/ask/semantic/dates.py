"""Date expressions -> a half-open span of days [start, end), relative ones against a given today.

Spans are computed here, in Python, and enter the statement as date literals, so the
explanation can name the exact days ('next month' -> January 2027) and the SQL says the same.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from nlq.ask.semantic.tokens import Token

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
QUARTERS = {"q1": 1, "q2": 2, "q3": 3, "q4": 4}
ORDINAL_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
                    "last": 4}
RELATIVE = {"next": 1, "coming": 1, "following": 1, "this": 0, "current": 0, "last": -1, "previous": -1,
            "past": -1, "prior": -1}
UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
         "quarter": "quarter", "quarters": "quarter", "year": "year", "years": "year"}
# A bare year is a date only after one of these words ("in 2026"), never in "more than 2000 items".
YEAR_LEAD = {"in", "during", "of", "since", "before", "after", "until", "till", "through", "by", "from",
             "between", "and", "to", "for", "year", "throughout", "within", "or", "vs", "versus", ",", "across"}


@dataclass(frozen=True)
class Span:
    """Days [start, end); `label` is how the explanation names it; `day` when it is one day."""

    start: date
    end: date
    label: str
    day: bool = False
    relative: bool = False
    open_end: bool = False  # 'since X' style spans run to no end; only start matters

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_span(year: int, month: int) -> Span:
    start = date(year, month, 1)
    return Span(start, add_months(start, 1), f"{calendar.month_name[month]} {year}")


def quarter_span(year: int, quarter: int) -> Span:
    start = date(year, 3 * quarter - 2, 1)
    return Span(start, add_months(start, 3), f"Q{quarter} {year}")


def year_span(year: int) -> Span:
    return Span(date(year, 1, 1), date(year + 1, 1, 1), str(year))


def day_span(day: date) -> Span:
    return Span(day, day + timedelta(days=1), f"{day.day} {calendar.month_name[day.month]} {day.year}", day=True)


def _this_year(span: Span) -> Span:
    """A date said without its year: this year's, marked so a range can take the year said once at its
    end ('between 1 march and 30 april 2027')."""
    return Span(span.start, span.end, f"{span.label} (this year)", span.day)


def _year(token: Token | None) -> int | None:
    if token is not None and token.kind == "num" and token.value is not None and token.value.is_integer() \
            and 1990 <= token.value <= 2100 and not token.money and not token.percent:
        return int(token.value)
    return None


def _day_number(token: Token | None) -> int | None:
    if token is not None and token.kind == "num" and token.value is not None and token.value.is_integer() \
            and 1 <= token.value <= 31 and not token.money and not token.percent:
        return int(token.value)
    return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def match_date(tokens: list[Token], i: int, today: date) -> tuple[int, Span] | None:
    """The date expression starting at tokens[i], as (tokens used, span), or None."""
    at = lambda k: tokens[i + k] if i + k < len(tokens) else None  # noqa: E731
    text = lambda k: at(k).text if at(k) is not None else ""  # noqa: E731
    first = at(0)
    if first.kind == "iso":
        y, m, d = (int(p) for p in first.text.split("-"))
        day = _valid(y, m, d)
        return (1, day_span(day)) if day else None
    # 1 March 2027 / 1st of March 2027
    if _day_number(first) is not None:
        k = 2 if text(1) == "of" else 1
        if text(k) in MONTHS:
            year = _year(at(k + 1))
            day = _valid(year or today.year, MONTHS[text(k)], _day_number(first))
            if day:
                return (k + 2, day_span(day)) if year else (k + 1, _this_year(day_span(day)))
    if first.text in MONTHS:
        month = MONTHS[first.text]
        if first.text == "may" and _year(at(1)) is None and _day_number(at(1)) is None:
            return None  # 'may' alone is a verb more often than a month
        day_number = _day_number(at(1))
        if day_number is not None and _year(at(1)) is None:  # March 1 [,] 2027
            k = 3 if text(2) == "," else 2
            year = _year(at(k))
            day = _valid(year or today.year, month, day_number)
            if day:
                return (k + 1, day_span(day)) if year else (2, _this_year(day_span(day)))
        k = 2 if text(1) in ("of", ",") else 1
        year = _year(at(k))
        if year:
            return k + 1, month_span(year, month)
        span = month_span(today.year, month)
        return 1, Span(span.start, span.end, f"{span.label} (this year)")
    if first.text in QUARTERS:
        year = _year(at(1))
        span = quarter_span(year or today.year, QUARTERS[first.text])
        return (2 if year else 1), span if year else Span(span.start, span.end, f"{span.label} (this year)")
    if first.text in ORDINAL_QUARTERS and text(1) == "quarter" and text(2) in ("of", "in") and _year(at(3)):
        return 4, quarter_span(_year(at(3)), ORDINAL_QUARTERS[first.text])
    if first.text in ("within", "in") and at(1) is not None and at(1).kind == "num" and text(2) in UNITS \
            and not (text(3) in ("ago", "late", "early", "later", "earlier")):
        used, span = _relative([Token("word", "next", "next", 0, 0)] + tokens[i + 1:i + 3], 0, today) or (0, None)
        if span is not None:
            return 3, Span(span.start, span.end, span.label.replace("the next", "the next"), relative=True)
    if first.text == "today":
        return 1, Span(today, today + timedelta(days=1), f"today ({today.isoformat()})", day=True, relative=True)
    if first.text == "tomorrow":
        day = today + timedelta(days=1)
        return 1, Span(day, day + timedelta(days=1), f"tomorrow ({day.isoformat()})", day=True, relative=True)
    if first.text == "yesterday":
        day = today - timedelta(days=1)
        return 1, Span(day, day + timedelta(days=1), f"yesterday ({day.isoformat()})", day=True, relative=True)
    if first.text in ("ytd",) or (first.text == "year" and text(1) == "to" and text(2) == "date"):
        start = date(today.year, 1, 1)
        return (1 if first.text == "ytd" else 3), Span(start, today + timedelta(days=1),
                                                       f"the year to date ({start} to {today})", relative=True)
    if first.text in RELATIVE:
        return _relative(tokens, i, today)
    if first.text in ("end", "start", "beginning", "middle", "mid") and text(1) == "of":
        found = match_date(tokens, i + 2, today) if i + 2 < len(tokens) else None
        if found and not found[1].day:
            used, span = found
            if first.text == "end":
                return used + 2, Span(span.last, span.end, f"the end of {span.label} ({span.last})", day=True)
            if first.text in ("start", "beginning"):
                return used + 2, Span(span.start, span.start + timedelta(days=1),
                                      f"the start of {span.label} ({span.start})", day=True)
        return None
    year = _year(first)
    if year and i > 0 and tokens[i - 1].text in YEAR_LEAD:
        return 1, year_span(year)
    return None


def _relative(tokens: list[Token], i: int, today: date) -> tuple[int, Span] | None:
    """next / this / last + unit, and next / last N days (weeks, months)."""
    word = tokens[i].text
    direction = RELATIVE[word]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None:
        return None
    if nxt.kind == "num" and nxt.value and nxt.value.is_integer() and direction != 0 and i + 2 < len(tokens) \
            and tokens[i + 2].text in UNITS:
        n, unit = int(nxt.value), UNITS[tokens[i + 2].text]
        if unit in ("day", "week"):
            delta = timedelta(days=n * (7 if unit == "week" else 1))
            end = today + delta + timedelta(days=1) if direction > 0 else today + timedelta(days=1)  # through today + N
            start = today if direction > 0 else today - delta
        elif unit == "month" or unit == "quarter" or unit == "year":
            months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
            shifted = _shift_day(today, months * direction)
            start, end = (today, shifted + timedelta(days=1)) if direction > 0 else (shifted, today + timedelta(days=1))
        else:
            return None
        label = f"the {word} {n} {unit}s ({start} to {end - timedelta(days=1)})"
        return 3, Span(start, end, label, relative=True)
    if nxt.text not in UNITS or nxt.text.endswith("s"):
        return None
    unit = UNITS[nxt.text]
    if unit == "day":
        return None
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=direction)
        span = Span(monday, monday + timedelta(days=7), "", relative=True)
    elif unit == "month":
        start = add_months(date(today.year, today.month, 1), direction)
        span = month_span(start.year, start.month)
    elif unit == "quarter":
        q = (today.month - 1) // 3 + 1
        index = today.year * 4 + q - 1 + direction
        span = quarter_span(index // 4, index % 4 + 1)
    else:
        span = year_span(today.year + direction)
    label = f"{word} {unit}: {span.label}" if span.label else f"{word} week ({span.start} to {span.last})"
    return 2, Span(span.start, span.end, label, relative=True)


def _shift_day(day: date, months: int) -> date:
    first = add_months(date(day.year, day.month, 1), months)
    return date(first.year, first.month, min(day.day, calendar.monthrange(first.year, first.month)[1]))
