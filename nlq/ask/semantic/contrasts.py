"""Groups compared on two values of one column: 'areas that have more cranes than generators',
'categories with more than twice as many rentals as purchases', 'areas that spend more on rentals
than on purchases', 'which areas have both a tower crane and a crawler crane on site'.

Two values of one column in one question would otherwise ask for records that have both (none do),
so the question declines. Said with a comparison between them inside a question about groups, they
are two figures of each group, each over its own records (COUNT / SUM ... FILTER), compared in the
group's condition; both figures are shown beside the group. The question's other conditions apply
to both sides ('on site', 'cancelled'). Read after the groups and before the stored values.

'Bought rather than rented' names the rest of a column that has only those two values: the second
value adds nothing and is read as the first's complement; with a third value it stays unread.
"""

from __future__ import annotations

import re

from sqlglot import exp

from nlq.ask.semantic.build import FLIP, VIEW, WORDS, Query, aggregate, col, compare, lit
from nlq.ask.semantic.conditions import FUNC_WORDS, Reader
from nlq.ask.semantic.lexicon import Item
from nlq.ask.semantic.multiples import factor_at
from store.fields import BY_COLUMN

MORE = {"more": "gt", "higher": "gt", "greater": "gt", "bigger": "gt", "larger": "gt",
        "fewer": "lt", "less": "lt", "lower": "lt", "smaller": "lt", "worse": "gt", "better": "lt"}
AS_MANY = ("many", "much")
INSTEAD = (("rather", "than"), ("instead", "of"), ("as", "opposed", "to"))


def column_values(item: Item | None) -> tuple[str, list[str]] | None:
    """(column, values) of a stored-value item, or None."""
    if item is None or item.kind != "value":
        return None
    columns = {c for c, _ in item.value}
    if len(columns) != 1:
        return None
    return next(iter(columns)), list(dict.fromkeys(v for _, v in item.value))


def _comparative(item: Item | None) -> tuple[str, bool] | None:
    """(op, whether 'than' is part of it) for 'more' / 'fewer than' / 'higher' ..., else None."""
    if item is None:
        return None
    words = item.surface.lower().split()
    if item.kind == "cmp" and isinstance(item.value, str) and item.value in ("gt", "lt") and words[0] in MORE:
        return item.value, words[-1] == "than"
    if item.kind in ("unknown", "edit") and len(words) == 1 and words[0] in MORE:  # 'lower' is also an edit verb
        return MORE[words[0]], False
    return None


def _comparative_than(reader: Reader, i: int, reach: int) -> tuple[str, bool, int] | None:
    """(op, whether 'than' is part of the comparative, the index of 'than') for a comparative at item i
    with its 'than' within `reach` items, else None."""
    said = _comparative(reader.live(i))
    if said is None:
        return None
    op, has_than = said
    than = i if has_than else next((k for k in range(i + 1, min(i + reach, len(reader.items)))
                                    if _is(reader.live(k), "than")), None)
    return None if than is None else (op, has_than, than)


def _is(item: Item | None, *words: str) -> bool:
    return item is not None and not item.used and item.surface.lower() in words


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


class _Sides:
    """What a contrast took: the two values, the measure, the comparison, the items."""

    def __init__(self, column: str, first: list[str], second: list[str], op: str, factor: float,
                 measured: list[int], used: list[int]) -> None:
        self.column, self.first, self.second, self.op, self.factor = column, first, second, op, factor
        self.measured, self.used = measured, used


def _measure_near(reader: Reader, i: int, step: int) -> list[int]:
    """The measure words next to item i ('spend more', 'more actual cost'), skipping verbs and stop words."""
    j = reader.next_content(i, step, {"stop", "verb", "record"})
    found = []
    while reader.kind(j) in ("measure", "qual"):
        found.append(j)
        j += step
    return sorted(found)


def _read_one(reader: Reader, i: int) -> _Sides | None:
    """The contrast around the comparative at item i, in any of its orders, or None."""
    items = reader.items
    said = _comparative(reader.live(i))
    if said is None:
        return None
    op, has_than = said
    used = [i]
    factor = 1.0
    if has_than:
        j = reader.next_content(i, 1, {"stop"})
        if (found := factor_at(reader, j)) is not None:  # 'more than twice as many rentals as purchases'
            factor, factor_items, j = found
            many = []
            while _is(reader.live(j), *AS_MANY):
                many.append(j)
                j = reader.next_content(j, 1, {"stop"})
            first = column_values(reader.live(j))
            if not many or first is None or not _is(reader.live(j + 1), "as"):
                return None
            b = reader.next_content(j + 1, 1, {"stop"})
            second = column_values(reader.live(b))
            if second is None or second[0] != first[0]:
                return None
            return _Sides(first[0], first[1], second[1], op, factor, [], [*used, *factor_items, *many, j, j + 1, b])
        # 'the hired kit forecast to cost more than the bought kit': the first value before the comparison
        m = _measure_near(reader, i, -1)
        a = reader.next_content(m[0] if m else i, -1, {"stop", "verb", "record"})
        first = column_values(reader.live(a))
        b = reader.next_content(i, 1, {"stop", "prep"})
        second = column_values(reader.live(b))
        if not first or not second or first[0] != second[0]:
            return None
        used += [x for x in range(a, b + 1) if not items[x].used and items[x].kind in ("stop", "record", "prep")]
        used += [a, b, *m]
        return _Sides(first[0], first[1], second[1], op, factor, m, used)
    # 'more cranes than generators', '(spend) more on rentals than on purchases', 'a higher forecast for ...'
    m = _measure_near(reader, i, -1)
    after = reader.next_content(i, 1, {"stop", "prep"})
    if not m and reader.kind(after) in ("measure", "qual"):
        m = _measure_near(reader, i, 1)
        after = reader.next_content(m[-1], 1, {"stop", "prep"})
    first = column_values(reader.live(after))
    than = reader.next_content(after, 1, {"record"})
    if not first or not _is(reader.live(than), "than"):
        return None
    b = reader.next_content(than, 1, {"stop", "prep"})
    second = column_values(reader.live(b))
    if not second or second[0] != first[0]:
        return None
    used += [x for x in range(i + 1, b + 1) if not items[x].used and items[x].kind in ("stop", "prep", "record")]
    used += [after, than, b, *m]
    return _Sides(first[0], first[1], second[1], op, factor, m, used)


def _side_figures(sides: _Sides, measure) -> list[tuple[str, exp.Expression]]:
    """Each side's figure over its own value's records: the total of the measure, or the count."""
    figures = []
    for values in (sides.first, sides.second):
        where = exp.Where(this=exp.EQ(this=col(sides.column), expression=lit(values[0])) if len(values) == 1
                          else exp.In(this=col(sides.column), expressions=[lit(v) for v in values]))
        figure = exp.Filter(this=exp.Sum(this=measure.sql()) if measure else exp.Count(this=exp.Star()),
                            expression=where)
        figures.append((f"{measure.alias if measure else 'records'}_{slug('_'.join(values))}", figure))
    return figures


def _other_values(reader: Reader, column: str, taken: list[int]) -> bool:
    return any(not x.used and n not in taken and (v := column_values(x)) is not None and v[0] == column
               for n, x in enumerate(reader.items))


def read_contrasts(reader: Reader, query: Query) -> None:
    _read_rather_than(reader)
    keys = {alias for alias, _, _ in query.groups}
    _read_difference(reader, query, keys)
    if not query.groups:
        return
    _read_both(reader, keys)
    _read_share_versus(reader, keys)
    _read_named_group(reader, query, keys)
    for i in range(len(reader.items)):
        sides = _read_one(reader, i)
        if sides is None or sides.column in keys or set(sides.first) & set(sides.second) \
                or _other_values(reader, sides.column, sides.used):
            continue
        measure = None
        if sides.measured:
            said = [reader.items[x] for x in sides.measured]
            measure = reader._measure(next((x.value for x in said if x.kind == "measure"), None),
                                      next((x.value for x in said if x.kind == "qual"), None))
            if measure is None or measure.days or measure.key not in ("forecast_cost", "plan_cost", "actual_cost",
                                                                      "cost_variance"):
                continue  # a rate or a length compared between two sets of records: not read
        neg = reader.negated(min(sides.used))
        final = sides.op if neg is None else FLIP[sides.op]
        figures = _side_figures(sides, measure)
        right = figures[1][1].copy() if sides.factor == 1 else exp.Mul(this=lit(round(sides.factor, 6)),
                                                                        expression=figures[1][1].copy())
        used = sorted(set(sides.used) | ({neg} if neg is not None else set()))
        reader.use(*used)
        what = f"total {measure.name}" if measure else "number of records"
        times = "" if sides.factor == 1 else f"{sides.factor:g} x "
        label = sides.column.replace("_", " ")
        reader.add(compare(final, figures[0][1].copy(), right), min(used),
                   f"'{reader._words(used)}' read as groups whose {what} of {label} {' or '.join(sides.first)} is "
                   f"{WORDS.get(final, final)} {times}that of {label} {' or '.join(sides.second)} (both shown)",
                   having=True)
        for alias, figure in figures:
            if alias not in [a for a, _ in query.selects]:
                query.selects.append((alias, figure))


def _read_difference(reader: Reader, query: Query, keys: set[str]) -> None:
    """'how many more rentals than purchases (per category)', 'how much more do we spend on rentals than
    on purchases': the difference of the two figures (the larger side named first), shown with both,
    for the whole set or each group; no group is left out for having fewer."""
    items = reader.items
    for i in range(1, len(items)):
        asked = items[i - 1]
        if asked.used or asked.kind != "agg" or asked.value not in ("count", "sum_default") \
                or asked.surface.lower() not in ("how many", "how much"):
            continue
        sides = _read_one(reader, i)
        if sides is None or sides.column in keys or sides.factor != 1 or set(sides.first) & set(sides.second) \
                or _other_values(reader, sides.column, sides.used) or reader.negated(i - 1) is not None:
            continue
        measure = None
        if sides.measured:
            said = [items[x] for x in sides.measured]
            measure = reader._measure(next((x.value for x in said if x.kind == "measure"), None),
                                      next((x.value for x in said if x.kind == "qual"), None))
            if measure is None or measure.days or measure.key not in ("forecast_cost", "plan_cost", "actual_cost"):
                continue
        elif asked.value != "count":
            continue  # 'how much more ... rentals than purchases' with no money named: not read
        figures = _side_figures(sides, measure)
        high, low = (figures[0][1], figures[1][1]) if sides.op == "gt" else (figures[1][1], figures[0][1])
        used = sorted({i - 1, *sides.used})
        reader.use(*used)
        label = sides.column.replace("_", " ")
        what = f"total {measure.name}" if measure else "number of records"
        first, second = " or ".join(sides.first), " or ".join(sides.second)
        big, small = (first, second) if sides.op == "gt" else (second, first)
        reader.notes.append(f"'{reader._words(used)}' read as the {what} of {label} {big} minus that of {label} "
                            f"{small} (both shown; negative where there are fewer)")
        for alias, figure in figures:
            query.selects.append((alias, figure))
        query.selects.append(("difference", exp.Sub(this=high.copy(), expression=low.copy())))
        return


def _both_at(reader: Reader, i: int) -> tuple[str, list[str], list[str], list[int]] | None:
    """'both a tower crane and a crawler crane' at item i: (column, first values, second values, items)."""
    if not _is(reader.live(i), "both"):
        return None
    a = reader.next_content(i, 1, {"stop"})
    first = column_values(reader.live(a))
    joint = reader.next_content(a, 1, {"stop"})
    b = reader.next_content(joint, 1, {"stop"})
    second = column_values(reader.live(b))
    if not first or not second or first[0] != second[0] or reader.kind(joint) != "and" \
            or set(first[1]) & set(second[1]) or _other_values(reader, first[0], [a, b]):
        return None
    return first[0], first[1], second[1], [x for x in range(i, b + 1) if not reader.items[x].used]


def contrast_at(reader: Reader, i: int) -> bool:
    """Whether item i begins a contrast of two values ('how many areas have more cranes than
    generators' counts the groups that pass it)."""
    return _both_at(reader, i) is not None or _read_one(reader, i) is not None


def _read_both(reader: Reader, keys: set[str]) -> None:
    """'areas that have both a tower crane and a crawler crane': groups with records of each value."""
    for i in range(len(reader.items)):
        found = _both_at(reader, i)
        if found is None or found[0] in keys:
            continue
        column, first, second, used = found
        reader.use(*used)
        parts = []
        for values in (first, second):
            where = exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else exp.In(
                this=col(column), expressions=[lit(v) for v in values])
            parts.append(exp.GT(this=exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=where)),
                                expression=lit(0)))
        label = column.replace("_", " ")
        reader.add(exp.and_(*parts), i, f"'{reader._words(used)}' read as groups with at least one record of "
                                        f"{label} {' or '.join(first)} and at least one of {' or '.join(second)}",
                   having=True)


def _read_rather_than(reader: Reader) -> None:
    """'the share that's bought rather than rented': the second value is the rest of a column whose
    values the domain fixes at two, so it says nothing more; any other column leaves it unread."""
    items = reader.items
    for i in range(1, len(items)):
        words = next((w for w in INSTEAD if [x.surface.lower() for x in items[i:i + len(w)]] == list(w)
                      and not any(x.used for x in items[i:i + len(w)])), None)
        if words is None:
            continue
        a = reader.next_content(i, -1, {"stop"})
        b = reader.next_content(i + len(words) - 1, 1, {"stop"})
        first, second = column_values(reader.live(a)), column_values(reader.live(b))
        if not first or not second or first[0] != second[0]:
            continue
        allowed = BY_COLUMN[first[0]].allowed if first[0] in BY_COLUMN else None
        if not allowed or set(first[1]) & set(second[1]) or set(first[1]) | set(second[1]) != set(allowed):
            continue
        used = list(range(i, i + len(words))) + [b]
        reader.use(*used)
        reader.notes.append(f"'{reader._words(used)}' read as the rest of {first[0]} (its only values are "
                            f"{' and '.join(allowed)}), so only {' or '.join(first[1])} is asked about")


def _read_named_group(reader: Reader, query: Query, keys: set[str]) -> None:
    """'areas with more cancellations than the camp', 'areas that spend more than the jetty',
    'manufacturers with more records than the average manufacturer': each group's figure against the
    same figure of one group named by its value, or of the average group. The question's row conditions
    apply to both sides (the other side is a subquery that takes them at the end)."""
    items = reader.items
    for i in range(len(items)):
        found = _comparative_than(reader, i, 5)
        if found is None:
            continue
        op, has_than, than = found
        between = [k for k in range(i + 1, than) if not items[k].used]
        if any(items[k].kind not in ("record", "flag", "stop", "measure", "qual", "agg", "value") for k in between):
            continue
        b = reader.next_content(than, 1, {"stop"})
        target = reader.live(b)
        average = None
        first = than + 1
        while first < len(items) and items[first].kind == "stop" and items[first].value is None:
            first += 1  # ('than the fleet as a whole')
        whole = [first] if first < len(items) and items[first].kind == "stop" and items[first].value == "whole" else []
        if whole and reader.kind(reader.next_content(first, 1, {"stop"})) in ("agg", "measure", "qual"):
            whole = []  # 'than the overall average price': the figure named, read with the averages
        if whole and len(keys) == 1:
            # 'a higher average rate than the fleet as a whole': the same figure over every record
            _read_versus_whole(reader, i, than, between, whole, op)
            return
        if target is not None and target.kind == "agg" and target.value == "avg":  # 'than the average manufacturer'
            average, b = b, b + 1
            while b < len(items) and items[b].kind == "stop":
                b += 1
            target = items[b] if b < len(items) else None  # (the group word is read already: 'per manufacturer')
            if target is None or target.kind != "dim" or target.value not in keys:
                continue
            column = target.value
        else:
            named = column_values(target)
            if named is None or (named[0] not in keys and _other_values(reader, named[0], [b])):
                continue  # ('than the welding category' of areas: that category's records, if no other is named)
            column = named[0]
        if len(keys) != 1 or reader.next_content(b, 1, {"stop", "record"}) < len(items):
            continue  # more said after the group named: not only this comparison ('than the Liebherr kit' is)
        measured = [k for k in [*_measure_near(reader, i, -1), *between] if items[k].kind in ("measure", "qual")]
        funcs = [k for k in between if items[k].kind == "agg" and items[k].value in ("avg", "sum", "median")]
        before = reader.next_content(min(measured), -1, {"stop"}) if measured else -1
        if not funcs and reader.kind(before) == "agg" and items[before].value in ("avg", "sum", "median"):
            funcs = [before]  # 'an average forecast cost higher than silo 4': the figure said before
        said_items = [items[k] for k in measured]
        measure = reader._measure(next((x.value for x in said_items if x.kind == "measure"), None),
                                  next((x.value for x in said_items if x.kind == "qual"), None)) if measured else None
        func = items[funcs[0]].value if funcs else None if measure is None else (
            "avg" if measure.days or measure.key in ("monthly_rate", "purchase_price") else "sum")
        figure = exp.Count(this=exp.Star()) if measure is None else aggregate(func, measure.sql())
        if average is not None:
            inner = exp.select(exp.alias_(figure.copy(), "group_figure")).from_(VIEW).group_by(col(column))
            other = exp.select(exp.Avg(this=col("group_figure"))).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("per_group"))))
            against = f"the average {column.replace('_', ' ')}"
        else:
            values = column_values(target)[1]
            inner = exp.select(figure.copy()).from_(VIEW).where(
                exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else exp.In(
                    this=col(column), expressions=[lit(v) for v in values]))
            other = inner
            against = f"{column.replace('_', ' ')} {' or '.join(values)}"
        reader.deferred.append(inner)
        neg = reader.negated(i)
        final = op if neg is None else FLIP[op]
        used = sorted({i, than, b, *measured, *funcs, *([average] if average is not None else []),
                       *[k for k in between if items[k].kind in ("stop",)], *([neg] if neg is not None else [])})
        reader.use(*used)
        alias = "records" if measure is None else f"{func}_{measure.alias}"
        what = "number of records" if measure is None else f"{FUNC_WORDS[func]} {measure.name}"
        reader.add(compare(final, figure.copy(), exp.Subquery(this=other)), min(used),
                   f"'{reader._words(used)}' read as groups whose {what} is {WORDS.get(final, final)} that of "
                   f"{against}, over the same records (that figure shown)", having=True, show=(alias, figure.copy()))
        return


def _read_versus_whole(reader: Reader, i: int, than: int, between: list[int], whole: list[int], op: str) -> None:
    """'models with a higher average rate than the fleet as a whole': each group's average against the
    average over every record the question asks about. Only an average (or median) compares with the
    whole: a group's total or count is always below the whole's, so those stay unread."""
    items = reader.items
    measured = [k for k in [*_measure_near(reader, i, -1), *between] if items[k].kind in ("measure", "qual")]
    if not measured:
        return
    funcs = [k for k in between if items[k].kind == "agg"]
    before = reader.next_content(min(measured), -1, {"stop"})
    if not funcs and reader.kind(before) == "agg":
        funcs = [before]
    said = [items[k] for k in measured]
    measure = reader._measure(next((x.value for x in said if x.kind == "measure"), None),
                              next((x.value for x in said if x.kind == "qual"), None))
    func = items[funcs[0]].value if funcs else ("avg" if measure is not None and (
        measure.days or measure.key in ("monthly_rate", "purchase_price")) else None)
    if measure is None or func not in ("avg", "median"):
        return
    figure = aggregate(func, measure.sql())
    inner = exp.select(aggregate(func, measure.sql())).from_(VIEW)
    reader.deferred.append(inner)
    neg = reader.negated(i)
    final = op if neg is None else FLIP[op]
    used = sorted({i, than, *measured, *funcs, *whole, *[k for k in between if items[k].kind == "stop"],
                   *([neg] if neg is not None else [])})
    reader.use(*used)
    reader.add(compare(final, figure.copy(), exp.Subquery(this=inner)), min(used),
               f"'{reader._words(used)}' read as groups whose {FUNC_WORDS[func]} {measure.name} is "
               f"{WORDS.get(final, final)} the {FUNC_WORDS[func]} over every record asked about (that figure shown)",
               having=True, show=(f"{func}_{measure.alias}", figure.copy()))


SHARE_WORDS = ("share", "proportion", "percentage", "%", "fraction", "rate")


def _part_condition(reader: Reader, k: int) -> exp.Expression | None:
    """The condition a share counts: a flag ('overdue', 'cancelled'), or 'slipped' / 'slipping'."""
    item = reader.items[k]
    if item.kind == "flag" and item.value in reader.flag_table():
        return reader.flag_table()[item.value][0].copy()
    if item.kind == "measure" and item.value == "slip" and item.surface.lower() in ("slipped", "slipping", "slip"):
        return exp.GT(this=exp.Paren(this=reader._measure("slip", None).sql()), expression=lit(0))
    return None


def _read_share_versus(reader: Reader, keys: set[str]) -> None:
    """'areas with a smaller share of slipped kit than the site as a whole', 'suppliers with a smaller
    proportion of their kit slipping than caterpillar', 'categories with a higher cancellation rate
    than the whole job': each group's % of records that meet one condition, against the same % over
    every record asked about or over one named value's records. A condition said right after 'of'
    ('a bigger share of the on-site kit is overdue') is the records both sides are over."""
    items = reader.items
    if len(keys) != 1:
        return
    for i in range(len(items)):
        found = _comparative_than(reader, i, 10)
        if found is None:
            continue
        op, has_than, than = found
        around = range(max(0, i - 6), than)  # ('funds-transferable kit makes up a bigger share of the records')
        shares = [k for k in around if not items[k].used and (items[k].kind == "share" or (
            items[k].kind == "unknown" and items[k].surface.lower() == "rate"))]
        parts = [k for k in around if not items[k].used and _part_condition(reader, k) is not None]
        of = [k for k in parts if len(parts) > 1 and any(
            items[b].surface.lower() == "of" and all(items[x].kind == "stop" for x in range(b + 1, k))
            for b in range(max(0, k - 3), k))]
        counted = [k for k in parts if k not in of]  # 'a bigger share of the on-site kit is overdue': on site is the base
        if len(shares) != 1 or len(counted) != 1:
            continue
        part_at = counted[0]
        first = than + 1
        while first < len(items) and items[first].kind == "stop" and items[first].value is None:
            first += 1
        target = reader.live(first)
        if target is not None and target.kind == "stop" and target.value == "whole":
            where, against = None, "over every record asked about"
        elif (named := column_values(target)) is not None and not _other_values(reader, named[0], [first]):
            where = exp.EQ(this=col(named[0]), expression=lit(named[1][0])) if len(named[1]) == 1 else exp.In(
                this=col(named[0]), expressions=[lit(v) for v in named[1]])
            against = f"that of {named[0].replace('_', ' ')} {' or '.join(named[1])}"
        else:
            continue
        rest = [x for x in items[first + 1:] if x.kind not in ("stop", "verb", "record", "and", "share", "group")
                and not (x.kind == "dim" and x.value in keys)]
        if rest:
            continue  # more said after the other side than 'show each area's %': not only this comparison
        condition = _part_condition(reader, part_at)
        if items[part_at].kind == "flag" and items[part_at].value == "overdue" and not of:
            # 'a higher overdue rate': only kit on site can be overdue, so the share is of the kit on site
            reader.add(reader.flag_table()["on_site_now"][0].copy(), part_at,
                       f"'{items[part_at].surface}' as a share: of the kit on site now")
        share = exp.Div(this=exp.Mul(this=lit(100.0), expression=exp.Filter(
            this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition.copy()))),
            expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=lit(0)))
        inner = exp.select(share.copy()).from_(VIEW)
        if where is not None:
            inner = inner.where(where)
        reader.deferred.append(inner)
        neg = reader.negated(i)
        final = op if neg is None else FLIP[op]
        trailing = [k for k in range(first + 1, len(items)) if not items[k].used and items[k].kind != "dim"]
        used = sorted({i, than, part_at, *shares, first, *trailing,
                       *[k for k in range(min(i, part_at), than) if items[k].kind in ("stop", "verb", "record")
                         and not items[k].used], *([neg] if neg is not None else [])})
        reader.use(*used)
        reader.add(compare(final, share, exp.Subquery(this=inner)), min(used),
                   f"'{reader._words(used)}' read as groups whose % of records that are {items[part_at].surface} is "
                   f"{WORDS.get(final, final)} {against} (that % shown)", having=True,
                   show=("share_pct", share.copy()))
        return
