"""The ratio or the difference of one figure over two values of a column: 'ratio of rental forecast
cost to purchase forecast cost', 'difference between the avg monthly rate of liebherr cranes and
grove cranes', 'how many times bigger is the plan cost of cranes than the plan cost of concrete'.

Each side is the figure over its own value's records (SUM / AVG / COUNT ... FILTER), both shown
beside the ratio or difference; the question's other conditions apply to both. One figure only: two
different measures ('cost of cranes to the rate of generators') are not read. With no measure named
the figure is the number of records ('ratio of rentals to purchases'). Read before the stored values,
which would otherwise ask for records that have both values.
"""

from __future__ import annotations

from sqlglot import exp

from nlq.ask.semantic.build import Measure, Query, aggregate, col, lit
from nlq.ask.semantic.conditions import Reader
from nlq.ask.semantic.contrasts import FUNC_WORDS, column_values, slug

JOINS = ("to", "and", "vs", "versus", "than", "of", "against", "compared to", "compared with")
TIMES = ("bigger", "more", "larger", "higher", "greater")


def _trigger(reader: Reader) -> tuple[str, list[int]] | None:
    """('ratio' | 'difference', the items that say so)."""
    items = reader.items
    for i, item in enumerate(items):
        word = item.surface.lower()
        if item.used:
            continue
        if word in ("ratio", "ratio of"):
            return "ratio", [i]
        if word in ("difference", "gap", "diff"):
            nxt = reader.next_content(i, 1, set())
            return "difference", [i] + ([nxt] if reader.live(nxt) is not None and items[nxt].surface.lower() in (
                "between", "of", "in") else [])
        if word == "times" and i + 1 < len(items) and items[i + 1].surface.lower() in TIMES:
            before = [i - 1] if i > 0 and items[i - 1].kind == "agg" and items[i - 1].value == "count" else []
            return "ratio", [*before, i, i + 1]
    return None


def read_two_figures(reader: Reader, query: Query) -> None:
    found = _trigger(reader)
    if found is None:
        return
    kind, said = found
    items = reader.items
    keys = {a for a, _, _ in query.groups}
    sides = None
    by_column: dict[str, list[int]] = {}
    for n, item in enumerate(items):
        if not item.used and (cv := column_values(item)) is not None:
            by_column.setdefault(cv[0], []).append(n)
    for column, at in by_column.items():
        values = [tuple(column_values(items[n])[1]) for n in at]
        if column not in keys and len(at) == 2 and not set(values[0]) & set(values[1]):
            sides = (column, at)
        elif len(set(values)) > 1:
            return  # a third set of records: which side it restricts is not said
    if sides is None:
        if kind == "ratio":
            _measure_ratio(reader, query, said)
        return
    column, (a, b) = sides
    measured = [n for n, x in enumerate(items) if not x.used and x.kind in ("measure", "qual")]
    funcs = [n for n, x in enumerate(items) if not x.used and x.kind == "agg" and x.value in ("avg", "sum", "median")
             and n not in said]
    measures = _measures(reader, measured)
    if measures is False or len({items[n].value for n in funcs}) > 1:
        return
    measure = measures
    func = items[funcs[0]].value if funcs else (
        None if measure is None else "avg" if measure.days or measure.key in ("monthly_rate", "purchase_price")
        else "sum")
    figures = []
    for side in (a, b):
        values = column_values(items[side])[1]
        where = exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else exp.In(
            this=col(column), expressions=[lit(v) for v in values])
        figure = exp.Count(this=exp.Star()) if measure is None else aggregate(func, measure.sql())
        name = "records" if measure is None else f"{func}_{measure.alias}"
        figures.append((f"{name}_{slug('_'.join(values))}", exp.Filter(this=figure, expression=exp.Where(this=where))))
    left, right = figures[0][1].copy(), figures[1][1].copy()
    if kind == "ratio":
        result = exp.Div(this=exp.Mul(this=exp.Literal.number("1.0"), expression=left),
                         expression=exp.Nullif(this=right, expression=exp.Literal.number(0)))
    else:
        result = exp.Sub(this=left, expression=right)
    joins = [n for n in range(a + 1, b) if not items[n].used and (
        items[n].surface.lower() in JOINS or items[n].kind in ("stop", "prep", "and", "vs"))]
    used = sorted({*said, a, b, *measured, *funcs, *joins})
    reader.use(*used)
    query.selects += [(kind, result), *figures]
    what = "number of records" if measure is None else f"{FUNC_WORDS[func]} {measure.name}"
    label = column.replace("_", " ")
    reader.notes.append(f"'{reader._words(used)}' read as the {kind} of the {what} of {label} "
                        f"{' or '.join(column_values(items[a])[1])} {'to' if kind == 'ratio' else 'minus'} that of "
                        f"{' or '.join(column_values(items[b])[1])} (both shown)")


def _measures(reader: Reader, measured: list[int]) -> Measure | None | bool:
    """The one measure the figure is of, said once or repeated on both sides ('rental forecast cost to
    purchase forecast cost'); None when none is said; False when two different ones are."""
    items = reader.items
    found: list[Measure] = []
    run: list[int] = []
    for n in [*measured, None]:
        if n is not None and (not run or n == run[-1] + 1):
            run.append(n)
            continue
        if run:
            key = next((items[x].value for x in run if items[x].kind == "measure"), None)
            qual = next((items[x].value for x in run if items[x].kind == "qual"), None)
            m = reader._measure(key, qual)
            if m is not None:
                found.append(m)
        run = [n] if n is not None else []
    if not found:
        return None
    if len({m.alias for m in found}) > 1:
        return False
    return found[0]


MONEY = ("forecast_cost", "plan_cost", "actual_cost")


def _measure_ratio(reader: Reader, query: Query, said: list[int]) -> None:
    """'ratio of forecast to planned cost (per category)', 'actual to forecast ratio': the total of the
    first money measure over the total of the second, for the whole set or each group, both totals
    shown. Only two different amounts of money are read; a rate or a length is not."""
    items = reader.items
    runs: list[list[int]] = []
    for n, x in enumerate(items):
        if x.used or x.kind not in ("measure", "qual"):
            continue
        run = runs[-1] if runs else None
        joined = run is not None and n == run[-1] + 1 and not items[run[-1]].surface.lower().endswith(" to") and not (
            x.kind == "qual" or (x.kind == "measure" and any(items[k].kind == "measure" for k in run)))
        if joined:
            run.append(n)
        else:
            runs.append([n])
    if len(runs) != 2:
        return
    measures = []
    for run in runs:
        key = next((items[k].value for k in run if items[k].kind == "measure"), None)
        qual = next((items[k].value for k in run if items[k].kind == "qual"), None)
        measures.append(reader._measure(key, qual))
    if any(m is None or m.key not in MONEY for m in measures) or measures[0].key == measures[1].key:
        return
    (a, b), (first, second) = runs, measures
    between = [n for n in range(a[-1] + 1, b[0]) if not items[n].used]
    if not items[a[-1]].surface.lower().endswith(" to") and not (
            between and all(items[n].surface.lower() in ("to", "/", "over", "vs", "versus", "against")
                            or items[n].kind in ("stop", "prep") for n in between)):
        return
    top, bottom = exp.Sum(this=first.sql()), exp.Sum(this=second.sql())
    ratio = exp.Div(this=exp.Mul(this=exp.Literal.number("1.0"), expression=top),
                    expression=exp.Nullif(this=bottom, expression=exp.Literal.number(0)))
    used = sorted({*said, *a, *b, *between})
    reader.use(*used)
    query.selects += [("ratio", ratio), (f"sum_{first.alias}", top.copy()), (f"sum_{second.alias}", bottom.copy())]
    reader.notes.append(f"'{reader._words(used)}' read as the total {first.name} divided by the total "
                        f"{second.name} (both shown)")
