"""The columns a list is asked to show: 'Give id, actual end and forecast end', '- id, actual and plan
cost', 'ids and arrival dates', 'id and date'.

Read after the conditions, of the words they left: each run of a qualifier, a date word or a measure
between 'and' / commas names one column. A date word with no qualifier is the date the question is
about (the one column of that kind its conditions or ordering use: 'starting in the next 10 days ...
start dates'); an event ('arrival dates') otherwise is the actual date. Only in a list of records that
also asks for its ids, where such a trailing list is the columns wanted; anything else stays unread.
"""

from __future__ import annotations

from sqlglot import exp

from nlq.ask.semantic.build import COST, Query
from nlq.ask.semantic.conditions import Reader
from nlq.ask.semantic.lexicon import Item

DATE_WORDS = ("date", "dates", "day", "days", "when")
EVENTS = ("arrival", "arrivals", "arrived", "demob", "demobs", "departure", "departures", "mob")


def _columns_used(query: Query, reader: Reader) -> list[str]:
    named = [c.name for cond in reader.conditions if not cond.having for c in cond.expression.find_all(exp.Column)]
    named += [c.name for e, _ in query.order for c in e.find_all(exp.Column)]
    return list(dict.fromkeys(named))


def _date_column(part: str | None, surface: str, used: list[str]) -> str | None:
    """The date column a date word with no qualifier names."""
    dates = [c for c in used if c.endswith(("_start", "_end")) and (part is None or c.endswith(f"_{part}"))]
    if len(dates) == 1:
        return dates[0]
    if part is not None and surface.split()[0].lower() in EVENTS:
        return f"actual_{part}"
    return None


def _run_column(run: list[Item], used: list[str]) -> list[str] | None:
    """The column(s) one run names: 'actual end', 'forecast end', 'actual and plan cost' (two), 'date',
    'both end dates' (every end date the conditions use)."""
    quals = [x.value for x in run if x.kind == "qual"]
    parts = [x for x in run if x.kind == "part"]
    if parts and not quals and any(x.surface.lower() in ("both", "all") for x in run):
        named = [c for c in used if c.endswith(f"_{parts[0].value[0]}")]
        return named if len(named) >= 2 else None
    measures = [x for x in run if x.kind == "measure"]
    dated = [x for x in run if x.surface.lower() in DATE_WORDS]
    if len(parts) > 1 or len(measures) > 1 or (parts and measures):
        return None
    if parts:
        which = parts[0].value[0]
        if quals:
            return [f"{q}_{which}" for q in quals]
        column = _date_column(which, parts[0].surface, used)
        return [column] if column else None
    if measures:
        key = measures[0].value
        if key == "cost":
            return [COST[q] for q in quals] or ["forecast_cost"]
        if quals or key not in ("forecast_cost", "plan_cost", "actual_cost", "monthly_rate", "purchase_price",
                                "cost_variance"):
            return None
        return [key]
    if dated and not quals:
        column = _date_column(None, dated[0].surface, used)
        return [column] if column else None
    return None


def read_shown_columns(items: list[Item], query: Query, reader: Reader, id_words: set[str]) -> None:
    if (query.selects or query.groups or query.count_groups) and not query.rank_records:
        return  # (the top records of each group are records too)
    if not any(x.surface.lower() in id_words for x in items):
        return
    used = _columns_used(query, reader)
    runs: list[list[int]] = [[]]
    for n, x in enumerate(items):
        if x.used:
            if runs[-1]:
                runs.append([])
            continue
        if x.kind == "and" or x.surface in (",", "-", ":"):
            runs.append([])
        elif x.kind in ("qual", "part", "measure") or x.surface.lower() in DATE_WORDS + ("both",):
            runs[-1].append(n)
        elif x.kind != "stop":
            runs.append([])
    runs = [r for r in runs if r]
    for k in range(len(runs) - 1):  # 'actual and plan cost': the qualifier said alone shares the next measure
        if all(items[n].kind == "qual" for n in runs[k]) and any(items[n].kind in ("measure", "part")
                                                                for n in runs[k + 1]):
            runs[k + 1] = runs[k] + runs[k + 1]
            runs[k] = []
    shown = [a for a, _ in query.columns]
    for run in [r for r in runs if r]:
        columns = _run_column([items[n] for n in run], used)
        after = max(run) + 1
        while after < len(items) and (items[after].kind == "and" or items[after].surface == ","):
            after += 1
        if all(items[n].kind == "qual" for n in run) and after < len(items) and items[after].kind == "measure" \
                and items[after].value in ("cost", *COST.values()):
            columns = [COST[items[n].value] for n in run]  # 'actual and plan cost', the cost already read
        if not columns:
            continue
        for n in run:
            items[n].used = True
        lead = min(run) - 1  # 'by forecast end', said of the ranking already ordered by it
        if lead >= 0 and not items[lead].used and items[lead].kind == "group" and items[lead].surface.lower() == "by" \
                and all(column in shown or column in {c.name for e, _ in query.order for c in e.find_all(exp.Column)}
                        for column in columns):
            items[lead].used = True
        for column in columns:
            if column not in shown:
                query.columns.append((column, exp.column(column)))
                shown.append(column)
        reader.notes.append(f"'{' '.join(items[n].surface for n in run)}' shown as {' and '.join(columns)}")
