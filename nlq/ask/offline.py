"""The offline provider: a deterministic parser for questions about PFA records.

It runs in-process, so it may read the organization's own vocabulary (category, class, area and
manufacturer values) to recognise them in a question; it sends nothing anywhere. Its SQL is built
as a sqlglot tree (values become quoted literals) and goes through the same guardrails as any
model's. What it does not understand, it says so plainly.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool
from sqlglot import exp

from nlq.ask.providers import LlmReply
from nlq.errors import NlqError
from prompts.render import Prompt
from store import queries

_Q = queries.load("records")
VOCABULARY_SECONDS = 300
LIST_COLUMNS = ("id", "category", "class", "area", "source", "forecast_start", "forecast_end", "forecast_cost")
GROUPS = {"category": "category", "categories": "category", "class": "class", "classes": "class",
          "area": "area", "areas": "area", "silo": "area", "silos": "area", "source": "source",
          "manufacturer": "manufacturer", "manufacturers": "manufacturer", "model": "model", "dor": "dor",
          "month": "month"}
METRICS = (("actual cost", "actual_cost"), ("plan cost", "plan_cost"), ("planned cost", "plan_cost"),
           ("variance", "cost_variance"), ("overrun", "cost_variance"), ("rate", "monthly_rate"),
           ("price", "purchase_price"), ("cost", "forecast_cost"), ("spend", "forecast_cost"),
           ("budget", "forecast_cost"), ("value", "forecast_cost"))
FLAGS = ((("not on site", "not yet on site", "not actualized", "not arrived"), "is_actualized", False),
         (("on site", "actualized", "arrived"), "is_actualized", True),
         (("not discontinued", "not cancelled", "active"), "is_discontinued", False),
         (("discontinued", "cancelled", "canceled"), "is_discontinued", True),
         (("draft", "my changes", "edited", "i changed"), "has_draft", True),
         (("funds transferable", "transferable"), "is_funds_transferable", True))
SOURCES = ((("rental", "rentals", "rented", "hired", "hire"), "Rental"), (("purchase", "purchases", "bought", "owned"), "Purchase"))
PAYERS = ((("overhead", "beo"), "BEO"), (("project-paid", "paid by the project", "project cost"), "PROJECT"))
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_NUMBER = r"\$?\s*(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|million)?\b"
_COMPARE = re.compile(r"\b(over|more than|above|greater than|at least|under|below|less than|at most|cheaper than)\s+" + _NUMBER)
_ISO = r"(\d{4}-\d{2}-\d{2})"
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?(?:\s+(\d{4}))?"


class CannotAnswerOffline(NlqError):
    """The offline parser does not understand this question; configure an LLM for free-form questions."""

    code = "llm_unavailable"
    status_code = 422


@dataclass
class Parsed:
    conditions: list[exp.Expression] = field(default_factory=list)
    understood: list[str] = field(default_factory=list)


def _words(text: str, word: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _lit(value) -> exp.Expression:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def _amount(number: str, unit: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(unit or "", 1)


def _metric(text: str) -> str:
    for word, column in METRICS:
        if word in text:
            return column
    return "forecast_cost"


def _date_column(text: str) -> str:
    return "forecast_end" if re.search(r"\b(end|ending|ends|finish|finishing|due back|off[- ]hire|leav)", text) else "forecast_start"


def _month_range(month: str, year: str | None) -> tuple[exp.Expression, exp.Expression]:
    number = MONTHS[month]
    if year:
        start = exp.cast(exp.Literal.string(f"{int(year):04d}-{number:02d}-01"), "date")
    else:  # "in March": March of the current year
        start = exp.cast(exp.Anonymous(this="make_date", expressions=[
            exp.Extract(this=exp.var("YEAR"), expression=exp.CurrentDate()), exp.Literal.number(number),
            exp.Literal.number(1)]), "date")
    return start, exp.Add(this=start.copy(), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("MONTH")))


def parse_question(question: str, vocabulary: dict[str, list[str]]) -> tuple[str, str]:
    """(sql, explanation) for a question, or CannotAnswerOffline."""
    text = " ".join(question.lower().split())
    parsed = Parsed()
    _filters_by_value(text, vocabulary, parsed)
    _flags(text, parsed)
    _money(text, parsed)
    _dates(text, parsed)
    return _statement(text, parsed)


def _filters_by_value(text: str, vocabulary: dict[str, list[str]], parsed: Parsed) -> None:
    for words, value in SOURCES:
        if any(_words(text, w) for w in words):
            parsed.conditions.append(exp.EQ(this=_col("source"), expression=_lit(value)))
            parsed.understood.append(f"source {value}")
            break
    for words, value in PAYERS:
        if any(w in text for w in words):
            parsed.conditions.append(exp.EQ(this=_col("dor"), expression=_lit(value)))
            parsed.understood.append(f"paid by {value}")
            break
    skip: set[str] = set()
    for column in ("class", "category", "area", "manufacturer"):
        if column in skip:
            continue
        found = []
        for value in sorted(vocabulary.get(column, []), key=len, reverse=True):
            forms = {value.lower(), value.lower().rstrip("s")}
            if any(len(f) > 2 and _words(text, f) or _words(text, f + "s") for f in forms):
                if not any(value.lower() in other.lower() for other in found):
                    found.append(value)
        if found:
            column_expr = _col(column)
            parsed.conditions.append(exp.EQ(this=column_expr, expression=_lit(found[0])) if len(found) == 1 else
                                     exp.In(this=column_expr, expressions=[_lit(v) for v in found]))
            parsed.understood.append(f"{column} {', '.join(found)}")
            if column == "class":
                skip.add("category")  # "crawler crane" also says "crane": the class is the finer filter


def _flags(text: str, parsed: Parsed) -> None:
    seen = set()
    for words, column, value in FLAGS:
        if column in seen:
            continue
        if any(w in text for w in words):
            seen.add(column)
            parsed.conditions.append(_col(column) if value else exp.Not(this=_col(column)))
            parsed.understood.append(f"{column} {'yes' if value else 'no'}")


def _money(text: str, parsed: Parsed) -> None:
    for match in _COMPARE.finditer(text):
        word, number, unit = match.groups()
        column = _metric(text)
        value = _amount(number, unit)
        op = exp.GT if word in ("over", "more than", "above", "greater than") else (
            exp.GTE if word == "at least" else exp.LTE if word == "at most" else exp.LT)
        parsed.conditions.append(op(this=_col(column), expression=exp.Literal.number(value)))
        parsed.understood.append(f"{column} {word} {value:,.0f}")


def _dates(text: str, parsed: Parsed) -> None:
    column = _date_column(text)
    col = _col(column)
    between = re.search(r"between\s+" + _ISO + r"\s+and\s+" + _ISO, text)
    if between:
        parsed.conditions += [exp.GTE(this=col, expression=exp.cast(_lit(between.group(1)), "date")),
                              exp.LTE(this=col.copy(), expression=exp.cast(_lit(between.group(2)), "date"))]
        parsed.understood.append(f"{column} between {between.group(1)} and {between.group(2)}")
        return
    for word, op in (("before", exp.LT), ("after", exp.GT)):
        iso = re.search(word + r"\s+" + _ISO, text)
        month = re.search(word + r"\s+" + _MONTH, text)
        if iso:
            parsed.conditions.append(op(this=col.copy(), expression=exp.cast(_lit(iso.group(1)), "date")))
            parsed.understood.append(f"{column} {word} {iso.group(1)}")
        elif month:
            start, end = _month_range(month.group(1), month.group(2))
            parsed.conditions.append(op(this=col.copy(), expression=start if op is exp.LT else end))
            parsed.understood.append(f"{column} {word} {month.group(0)[len(word):].strip()}")
    inside = re.search(r"\b(?:in|during)\s+" + _MONTH, text)
    if inside and not re.search(r"\b(before|after)\s+" + _MONTH, text):
        start, end = _month_range(inside.group(1), inside.group(2))
        parsed.conditions += [exp.GTE(this=col.copy(), expression=start), exp.LT(this=col.copy(), expression=end)]
        parsed.understood.append(f"{column} in {inside.group(0).split(None, 1)[1]}")
    upcoming = re.search(r"next\s+(\d+)\s+(day|week|month)s?", text)
    if upcoming:
        span = exp.Interval(this=exp.Literal.string(upcoming.group(1)), unit=exp.var(upcoming.group(2).upper()))
        parsed.conditions += [exp.GTE(this=col.copy(), expression=exp.CurrentDate()),
                              exp.LT(this=col.copy(), expression=exp.Add(this=exp.CurrentDate(), expression=span))]
        parsed.understood.append(f"{column} in the next {upcoming.group(1)} {upcoming.group(2)}s")
    for phrase, unit in (("this year", "YEAR"), ("this month", "MONTH")):
        if phrase in text:
            start = exp.cast(exp.TimestampTrunc(this=exp.CurrentDate(), unit=exp.var(unit)), "date")
            end = exp.Add(this=start.copy(), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit)))
            parsed.conditions += [exp.GTE(this=col.copy(), expression=start), exp.LT(this=col.copy(), expression=end)]
            parsed.understood.append(f"{column} {phrase}")


def _statement(text: str, parsed: Parsed) -> tuple[str, str]:
    select = exp.select()
    group = re.search(r"\b(?:by|per|for each|each)\s+(" + "|".join(GROUPS) + r")\b", text)
    count = re.search(r"\b(how many|count|number of)\b", text)
    total = re.search(r"\b(total|sum)\b", text)
    average = re.search(r"\b(average|avg|mean)\b", text)
    top = re.search(r"\btop\s+(\d+)\b|\b(\d+)\s+(?:most|least)\b|\b(most|least) expensive\b|\b(cheapest|biggest|largest)\b", text)
    metric = _metric(text)
    if count:  # "how many ... in total" counts; "total cost" sums
        measure, label = exp.Count(this=exp.Star()), "records"
    elif total:
        measure, label = exp.Sum(this=_col(metric)), f"total_{metric}"
    elif average:
        measure, label = exp.Avg(this=_col(metric)), f"average_{metric}"
    elif group:
        measure, label = exp.Count(this=exp.Star()), "records"
    else:
        measure = None
    if group:
        key = GROUPS[group.group(1)]
        key_expr = (exp.cast(exp.TimestampTrunc(this=_col("forecast_start"), unit=exp.var("MONTH")), "date")
                    if key == "month" else _col(key))
        select = select.select(exp.alias_(key_expr, key), exp.alias_(measure, label)).group_by(exp.Literal.number(1))
        select = select.order_by(exp.Ordered(this=exp.Literal.number(1 if key == "month" else 2),
                                             desc=key != "month"))
    elif measure is not None:
        select = select.select(exp.alias_(measure, label))
    else:
        select = select.select(*LIST_COLUMNS)
        if top:
            n = int(next(g for g in top.groups()[:2] if g) if any(top.groups()[:2]) else 10)
            ascending = "least" in top.group(0) or "cheapest" in top.group(0)
            select = select.order_by(exp.Ordered(this=_col(metric), desc=not ascending, nulls_first=False)).limit(n)
            parsed.understood.append(f"{'lowest' if ascending else 'highest'} {n} by {metric}")
        else:
            select = select.order_by("id")
    if not parsed.conditions and measure is None and not top and not re.search(r"\b(all|every|list)\b", text):
        raise CannotAnswerOffline(
            "The offline provider cannot answer that. It understands filters by category, class, area, "
            "manufacturer, source (rentals / purchases), who pays, on site / discontinued / drafts, amounts "
            "(\"over $5k\"), dates (before / after / between / in March / next 6 weeks / this year), counts, "
            "totals and averages by a column, and top-N. Configure an LLM for free-form questions.")
    select = select.from_("pfa_merged")
    for condition in parsed.conditions:
        select = select.where(condition, copy=False)
    explanation = ("Offline reading of the question: " + "; ".join(parsed.understood) + "."
                   if parsed.understood else "Offline reading of the question: no filters.")
    return select.sql(dialect="postgres"), explanation


class OfflineProvider:
    """Answers in-process, from the question and the organization's own vocabulary."""

    name = "offline"
    model = "offline-parser"

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self._vocabulary: dict[str, tuple[float, dict[str, list[str]]]] = {}

    async def vocabulary(self, org_id: str) -> dict[str, list[str]]:
        cached = self._vocabulary.get(org_id)
        if cached and time.monotonic() - cached[0] < VOCABULARY_SECONDS:
            return cached[1]
        words: dict[str, list[str]] = {}
        async with self.pool.connection() as conn:
            for kind, value in await (await conn.execute(_Q["vocabulary"], {"org": org_id})).fetchall():
                words.setdefault(kind, []).append(value)
        self._vocabulary[org_id] = (time.monotonic(), words)
        return words

    async def generate(self, prompt: Prompt, *, org_id: str, question: str) -> LlmReply:
        sql, explanation = parse_question(question, await self.vocabulary(org_id))
        return LlmReply(sql=sql, explanation=explanation, raw=sql)
