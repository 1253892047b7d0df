"""What a question's words mean here, what a statement may use, and what a bulk plan must respect:
the rules every prompt states, so the model does not spend repair rounds finding them out.

The meanings agree with the conventions of the accuracy set's gold SQL (the header of
`nlq/eval/questions.toml`); the statement rules are read from the guardrails (`guardrails.policy`),
the draft rules name the codes `store/draft_rules.py` and `store/bulk_changes.py` report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlglot
from sqlglot import exp

from guardrails import policy
from nlq.ask.catalog import Catalog
from store.bulk_changes import MAX_SHIFT_DAYS

MEANINGS: tuple[str, ...] = (
    'One record is one item of equipment: "how many" counts records.',
    "Cancelled records (is_discontinued) count unless the question excludes them.",
    'Money with no qualifier ("cost", "spend", "forecast") is forecast_cost; "planned cost", "budget", '
    '"baseline" = plan_cost; "actually spent", "spent so far" = actual_cost; "variance", "overrun", '
    '"over plan" = cost_variance; "rate" = monthly_rate; "price" = purchase_price.',
    '"Now" and "today" are CURRENT_DATE; "so far" and "by now" mean up to and including today.',
    '"On site" or "on site now" = is_actualized AND actual_end IS NULL; "arrived", "actualized", '
    '"mobilised" (ever) = is_actualized; "finished", "left site", "demobilised" = actual_end IS NOT NULL.',
    '"Overdue" = on site now with forecast_end before today.',
    'Dates with no qualifier are the forecast: "starting" = forecast_start; "ending", "off hire", '
    '"due back" = forecast_end; "planned" = plan_start / plan_end; "active" or "on hire" on a day or '
    "in a period = the forecast period overlaps it (both ends inclusive).",
    '"Slip" (slipped, late) = forecast_end - plan_end in days, slipped when forecast_end > plan_end; '
    '"arrival delay" = actual_start - plan_start in days.',
    "Durations are end - start in days (a date minus a date is a number of days); a length with no "
    "qualifier is forecast_end - forecast_start.",
    "Label months and quarters with date_trunc('month' | 'quarter', <date>), years with "
    "EXTRACT(year FROM <date>); percentages and shares are 0-100.",
    '"This / next / last month, quarter, year" are calendar periods around CURRENT_DATE; "in the next '
    'N days" = CURRENT_DATE through CURRENT_DATE + N.',
)

DRAFT_RULES: tuple[str, ...] = (
    "Records with is_actualized (on site) keep their forecast start and source: a change to either is "
    "skipped (locked_when_actualized).",
    "A forecast end before the forecast start is skipped (end_before_start).",
    "A Rental needs a monthly rate and a Purchase a purchase price (rental_needs_rate, purchase_needs_price).",
    "A cancelled record cannot be funds-transferable, and a plan cannot un-cancel a record "
    "(discontinued_and_transferable, cannot_undiscontinue).",
    "shift_days, add and scale_pct skip a record whose field is empty (no_value): scaling an empty "
    "rate changes nothing; use set to give a value.",
    f"Numbers cannot be negative (non_negative); shift_days is a whole number of days, at most "
    f"{MAX_SHIFT_DAYS:,}; scale_pct is between -100 and 1000.",
    "Skipped records are listed with their rule; nothing changes until the user reviews and accepts.",
)


@dataclass(frozen=True)
class Conventions:
    """Everything a prompt states besides the columns and the question (no row data: a date,
    fixed texts, and the guardrails' own lists)."""

    today: date
    max_rows: int
    meanings: tuple[str, ...]
    functions: tuple[str, ...]
    casts: tuple[str, ...]
    refusals: tuple[str, ...]
    refused_examples: tuple[str, ...]
    draft_rules: tuple[str, ...]


def conventions_for(max_rows: int, today: date | None = None, hidden: frozenset[str] = frozenset()) -> Conventions:
    """The conventions of one request: today's date and the service's row cap. `hidden`: columns
    the caller may not read (costs); a meaning that names one is left out, so no prompt invites a
    statement the guardrails refuse for that caller."""
    meanings = tuple(m for m in MEANINGS if not any(name in m for name in hidden))
    return Conventions(today=today or date.today(), max_rows=max_rows, meanings=meanings,
                       functions=policy.allowed_functions(), casts=policy.allowed_casts(),
                       refusals=tuple(rule for _, rule in policy.refusals()),
                       refused_examples=policy.refused_examples(), draft_rules=DRAFT_RULES)


def columns_in(sql: str, catalog: Catalog) -> tuple[str, ...]:
    """The view's columns a statement names (all of them for `*` or SQL that does not parse), so an
    explanation prompt carries only the part of the schema it needs.

    >>> from nlq.ask.catalog import build_catalog
    >>> columns_in("SELECT area, count(*) FROM pfa_merged WHERE source = 'Rental' GROUP BY area", build_catalog())
    ('area', 'source')
    """
    names = tuple(c.name for c in catalog.columns)
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        return names
    if tree is None or any(isinstance(star.parent, (exp.Select, exp.Column)) for star in tree.find_all(exp.Star)):
        return names  # `*` or `t.*` reads every column (count(*) reads none)
    used = {column.name.lower() for column in tree.find_all(exp.Column)}
    return tuple(name for name in names if name in used)
