"""The row conditions of a question: stored values, flags, dates, amounts and column comparisons.

Each reader consumes the items it understands (marks them used) and records a note that says how
it read them; the grammar then declines if any meaningful item is left unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import COST, DAY_MEASURES, FLIP, VIEW, WORDS, Measure, col, compare, lit
from nlq.ask.semantic.dates import Span
from nlq.ask.semantic.lexicon import Item, up_to_now
from nlq.ask.semantic.multiples import factor_at, percent, toward

SKIP = {"stop", "verb", "record"}


def whose(implied: str | None) -> str:
    """The qualifier a date word implies: 'arrived' the actual date, anything else the forecast."""
    return "actual" if implied == "actual" else "forecast"

LISTS = {"and", "or", "vs"}
FIXED_COLUMNS = {"source": "source", "dor": "who pays (dor)"}
ABSENCE = ("no", "without", "zero", "never", "nothing", "none", "not a single", "don't have a single",
           "doesn't have a single", "do not have a single", "does not have a single", "not one", "not any",
           "nothing that's", "nothing that has", "nothing that is", "nothing that", "nothing which", "none that",
           "none that's", "none which", "haven't got a single", "hasn't got a single", "have not got a single",
           "has not got a single", "haven't got any", "hasn't got any", "haven't a single", "haven't any",
           "don't", "dont", "doesn't", "doesnt")  # 'which areas don't have (any) cranes': groups with none  # before a value or flag in a question about groups


@dataclass
class Condition:
    expression: exp.Expression
    pos: int  # index of its first item: which side of "are" in a share question
    having: bool = False
    show: tuple[str, exp.Expression] | None = None  # a group's aggregate the condition tests, to show


FUNC_WORDS = {"sum": "total", "avg": "average", "median": "median", "min": "lowest", "max": "highest"}
RELATIVE_WORDS = ("over", "above", "under", "below")  # 'N over plan': an amount relative to another measure
DAYS_IN = {"day": 1, "week": 7, "month": 30.4375, "quarter": 91.3125, "year": 365}  # a month is 365.25 / 12 days


def _in_year_of(span: Span, end: Span) -> Span:
    """The first date of a range moved to the year of the second, or the year before if it would come after."""
    label = span.label[:-len(" (this year)")]
    words = label.rsplit(" ", 1)
    label = words[0] if len(words) == 2 and words[1].isdigit() else label
    for year in (end.start.year, end.start.year - 1):
        try:
            start = span.start.replace(year=year)
            stop = span.end.replace(year=year + (span.end.year - span.start.year))
        except ValueError:  # 29 February
            continue
        if start <= end.start:
            return Span(start, stop, f"{label} {year}", span.day, span.relative, span.open_end)
    return span


class Reader:
    """State shared by the condition readers and the grammar: the items, conditions, notes."""

    def __init__(self, items: list[Item], today: date) -> None:
        self.items = items
        self.today = today
        self.conditions: list[Condition] = []
        self.notes: list[str] = []
        self.vs: list[tuple[str, list[str]]] = []  # compared values: grouped by that column
        self.grouped = False  # set by the grammar before conditions on groups are read
        self.bucketed: str | None = None  # the date column of a time bucket: what a bare date restricts
        self.deferred: list[exp.Select] = []
        self.figures: list[tuple[str, exp.Expression]] = []  # figures a comparison shows instead of testing
        self._periods: list[tuple[str, Span, Condition]] = []  # date ranges read, for _either_period
        self._listed_from: dict[int, tuple[str, str]] = {}  # a listed date -> the column and op of the one before
        self._flags: dict[str, tuple[exp.Expression, str]] | None = None  # subqueries that take the question's row conditions at the end

    # -- navigation ---------------------------------------------------------------------------
    def live(self, i: int) -> Item | None:
        return self.items[i] if 0 <= i < len(self.items) and not self.items[i].used else None

    def next_content(self, i: int, step: int = 1, skip: set[str] = SKIP) -> int:
        j = i + step
        while 0 <= j < len(self.items) and (self.items[j].kind in skip or self.items[j].used):
            j += step
        return j

    def kind(self, i: int) -> str | None:
        item = self.live(i)
        return item.kind if item else None

    def use(self, *indices: int) -> None:
        for i in indices:
            self.items[i].used = True

    def add(self, expression: exp.Expression, pos: int, note: str, having: bool = False,
            show: tuple[str, exp.Expression] | None = None) -> None:
        self.conditions.append(Condition(expression, pos, having, show))
        self.notes.append(note)

    def negated(self, i: int) -> int | None:
        """The index of a 'not' / 'without' / 'excluding' right before item i, if any."""
        j = self.next_content(i, -1, SKIP | {"prep"})
        return j if self.kind(j) == "neg" else None

    # -- stored values ------------------------------------------------------------------------
    def read_values(self) -> None:
        required: dict[str, tuple[list[str], list[str]]] = {}  # column -> values a record must have, and the words
        self._decline_kinds_joined()
        i = 0
        while i < len(self.items):
            item = self.live(i)
            if item is None or item.kind != "value" or self._counted(i):
                i += 1
                continue
            column = item.value[0][0]
            run, seps, values = [i], [], list(dict.fromkeys(v for _, v in item.value))
            j = i
            while True:
                k = j + 1
                if self.kind(k) in LISTS:
                    n = k + 1  # 'in the silos or at the camp': the next value, after its own preposition
                    while self.kind(n) in ("prep", "stop") and n - k <= 2:
                        n += 1
                    nxt = self.live(n)
                    if nxt is not None and nxt.kind == "value" and nxt.value[0][0] == column and not self._counted(n):
                        seps += list(range(k, n))
                        run.append(n)
                        values += [v for _, v in nxt.value if v not in values]
                        j = n
                        continue
                break
            neg = self.negated(i)
            vs = any(self.items[s].kind == "vs" for s in seps) or (
                len(values) > 1 and any(x.kind == "pivot" and not x.used for x in self.items))
            self.use(*run, *seps)
            surfaces = " / ".join(f"'{self.items[r].surface}'" + (f" ({self.items[r].note})" if self.items[r].note else "")
                                  for r in run)
            label = FIXED_COLUMNS.get(column, column)
            if vs and neg is None:
                self.vs.append((column, values))
                self.add(exp.In(this=col(column), expressions=[lit(v) for v in values]), i,
                         f"{surfaces} compared: one row per {label} ({', '.join(values)})")
            elif neg is not None and self.grouped and (had := self._value_condition(column)) is not None:
                # 'makes we rent at the substation but not buy there': groups with the first value's
                # records and none of the second's, the other conditions applying to both
                self.use(neg)
                had.expression = exp.GT(this=exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(
                    this=had.expression)), expression=lit(0))
                had.having = True
                condition = exp.In(this=col(column), expressions=[lit(v) for v in values])
                counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))
                self.add(exp.EQ(this=counted, expression=lit(0)), neg,
                         f"'{self.items[neg].surface}' {surfaces} after another {label} read as groups that have "
                         f"records of the first and none of {label} {' or '.join(values)}", having=True)
            elif neg is not None and self.grouped and self.items[neg].surface.lower() in ABSENCE:
                self.use(neg)
                condition = exp.In(this=col(column), expressions=[lit(v) for v in values])
                counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))
                self.add(exp.EQ(this=counted, expression=lit(0)), neg,
                         f"'{self.items[neg].surface}' {surfaces} read as groups with no {label} {' or '.join(values)}",
                         having=True)
            elif neg is not None:
                self.use(neg)
                keep = exp.Or(this=exp.Is(this=col(column), expression=exp.Null()),
                              expression=exp.Not(this=exp.In(this=col(column), expressions=[lit(v) for v in values])))
                self.add(exp.Paren(this=keep), neg, f"'{self.items[neg].surface}' {surfaces} read as {label} not "
                         f"{' or '.join(values)} (records without a {label} count)")
            else:
                self._decline_disjoint(required, column, values, [self.items[r].surface for r in run], label)
                condition = (exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else
                             exp.In(this=col(column), expressions=[lit(v) for v in values]))
                self.add(condition, i, f"{surfaces} matched {label} {' or '.join(values)}")
            i = j + 1

    def _value_condition(self, column: str) -> Condition | None:
        """The row condition read earlier that a record has one of `column`'s values, if any."""
        for c in self.conditions:
            e = c.expression
            if not c.having and isinstance(e, (exp.EQ, exp.In)) and isinstance(e.this, exp.Column) \
                    and e.this.name == column:
                return c
        return None

    def _decline_kinds_joined(self) -> None:
        """'the LR1250s and manitowoc crawlers', 'gensets and air compressors': two kinds of kit named by
        different columns and joined by 'and' / 'or' are both kinds (either one), which the conditions
        here, all required at once, would read as records that are both. Declined rather than answered."""
        for k, item in enumerate(self.items):
            if item.used or item.kind not in ("and", "or") or item.surface == ",":
                continue
            a, b, noun = self.live(k - 1), self.live(k + 1), self.live(k + 2)
            if a is None or b is None or a.kind != "value" or b.kind != "value":
                continue
            def plural(x: Item | None) -> bool:
                return x is not None and x.kind == "value" and (x.plural or x.surface.lower().endswith("s"))
            if not (plural(a) and (plural(b) or plural(noun))):
                continue  # ('manitowoc crawlers': the kind is the last word of its phrase)
            if {c for c, _ in a.value} & {c for c, _ in b.value}:
                continue  # one column's values listed: read as either value
            raise NotUnderstood(
                f"'{a.surface} {item.surface} {b.surface}' names two kinds of kit by different columns, which the "
                "offline reader does not combine as either kind, so it does not answer rather than guess. Ask one "
                f"question per kind, e.g. \"how many {a.surface}\"; \"how many {b.surface}\".",
                words=[a.surface, item.surface, b.surface], understood=list(self.notes))

    def _decline_disjoint(self, required: dict, column: str, values: list[str], words: list[str], label: str) -> None:
        """'mixer trucks' read as class 'Transit Mixer 9m3' and as the truck classes: no record is both,
        so the answer would be an empty list or a zero, given as if it were one. Ask instead."""
        earlier = required.get(column)
        if earlier is not None and not set(earlier[0]) & set(values):
            said = [*earlier[1], *words]
            quoted = " and ".join(f"'{w}'" for w in said)
            first, second = earlier[0][0], values[0]
            raise NotUnderstood(
                f"{quoted} name different values of {label} ({', '.join(earlier[0][:4])} / {', '.join(values[:4])}) "
                f"and no record has both, so the offline reader does not answer rather than guess. Rephrase, e.g. "
                f"\"how many {first}\"; \"how many {second}\"; \"how many items per {label}\".",
                words=said, understood=list(self.notes))
        required[column] = (values if earlier is None else [v for v in earlier[0] if v in values],
                            words if earlier is None else [*earlier[1], *words])

    def _counted(self, i: int) -> bool:
        """'more than 100 rentals' in a question about groups: a count, read by read_amounts."""
        j = self.next_content(i, -1, {"stop"})
        if not (self.grouped and self.kind(j) == "num"):
            return False
        # 'top 3 cranes in each area', 'the 2 rentals with the highest rate in each area': the N of a ranking
        before, after = self.next_content(j, -1, {"stop"}), self.next_content(i, 1, {"stop", "prep"})
        return not (self.kind(before) in ("top", "super") or self.kind(after) == "super")

    # -- flags --------------------------------------------------------------------------------
    def read_absence(self) -> None:
        """'areas with no cancelled concrete equipment': groups where no record matches all of them."""
        if not self.grouped:
            return
        for i, item in enumerate(self.items):
            if item.used or item.kind != "neg" or item.surface.lower() not in ABSENCE:
                continue
            run, j = [], i + 1
            while j < len(self.items) and (self.items[j].kind in ("flag", "value", "stop", "record", "verb")
                                            and not self.items[j].used):  # ('a concrete pump that we bought')
                if self.items[j].kind in ("flag", "value"):
                    run.append(j)
                j += 1
            flags = self.flag_table()
            if len(run) < 2 or any(self.items[x].kind == "flag" and self.items[x].value not in flags for x in run):
                continue  # one value alone: read_values reads it ('classes with no Liebherr equipment')
            parts = []
            for x in run:
                it = self.items[x]
                if it.kind == "flag":
                    parts.append(flags[it.value][0].copy())
                else:
                    column, values = it.value[0][0], [v for _, v in it.value]
                    parts.append(exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else
                                 exp.In(this=col(column), expressions=[lit(v) for v in values]))
            condition = exp.and_(*parts)
            counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition))
            self.use(i, *run)
            self.add(exp.EQ(this=counted, expression=lit(0)), i,
                     f"'{self._words([i, *run])}' read as groups with no record that is "
                     f"{' and '.join(self.items[x].surface for x in run)}", having=True)

    def flag_table(self) -> dict[str, tuple[exp.Expression, str]]:
        if self._flags is None:
            self._flags = self._flag_table()
        return self._flags

    def _flag_table(self) -> dict[str, tuple[exp.Expression, str]]:
        """Only read when a question names a flag: building these trees is most of a short question's time."""
        today = lit(self.today)
        finished = exp.Not(this=exp.Is(this=col("actual_end"), expression=exp.Null()))
        return {
            "on_site": (col("is_actualized"), "on site (is_actualized: actuals exist)"),
            "on_site_now": (exp.and_(col("is_actualized"), exp.Is(this=col("actual_end"), expression=exp.Null())),
                            "on site now (actualized and no actual end yet)"),
            "not_on_site": (exp.Not(this=col("is_actualized")), "not on site yet (not actualized)"),
            "to_come": (exp.Paren(this=exp.and_(exp.Not(this=col("is_actualized")), exp.Not(this=col("is_discontinued")))),
                        "still to come (not arrived and not cancelled)"),
            "cancelled": (col("is_discontinued"), "cancelled (is_discontinued)"),
            "active": (exp.Not(this=col("is_discontinued")), "not cancelled"),
            "draft": (col("has_draft"), "records with your unsaved draft"),
            "transferable": (col("is_funds_transferable"), "funds transferable"),
            "finished": (finished, "finished (an actual end is recorded)"),
            "overdue": (exp.and_(col("is_actualized"), exp.Is(this=col("actual_end"), expression=exp.Null()),
                                 exp.LT(this=col("forecast_end"), expression=today.copy())),
                        f"overdue (on site now and forecast end before today, {self.today})"),
            "slipped": (exp.GT(this=col("forecast_end"), expression=col("plan_end")),
                        "running late (forecast end after plan end)"),
            "late_arrival": (exp.GT(this=col("actual_start"), expression=col("plan_start")),
                             "arrived late (actual start after plan start)"),
            "tagged": (exp.Not(this=exp.Is(this=col("equipment_tag"), expression=exp.Null())), "with an equipment tag"),
            "untagged": (exp.Is(this=col("equipment_tag"), expression=exp.Null()), "without an equipment tag"),
            "over_budget": (exp.GT(this=col("forecast_cost"), expression=col("plan_cost")),
                            "over budget (forecast cost > plan cost)"),
            "under_budget": (exp.LT(this=col("forecast_cost"), expression=col("plan_cost")),
                             "under budget (forecast cost < plan cost)"),
        }

    def overdue_for_days_overdue(self) -> None:
        """'days overdue' is only said of overdue items: without the condition it would be a negative
        number for everything not yet due."""
        said = [i for i, x in enumerate(self.items) if x.kind == "measure" and x.value == "days_overdue"]
        overdue = self.flag_table()["overdue"][0] if said else None
        if said and not any(c.expression == overdue for c in self.conditions):
            self.add(overdue.copy(), said[0], f"'{self.items[said[0]].surface}' counts overdue items only "
                                                f"(on site now and forecast end before today, {self.today})")

    def read_flags(self) -> None:
        for i, item in enumerate(self.items):
            if item.used or item.kind != "flag":
                continue
            flags = self.flag_table()
            if item.value not in flags:
                continue  # 'on hire' with no date: left for the leftover check
            expression, words = flags[item.value]
            neg = self.negated(i)
            self.use(i)
            after = self.next_content(i, 1, {"stop"})
            if neg is not None and item.value == "on_site_now" and self.kind(after) == "sofar" and \
                    self.items[after].surface.lower() in ("yet", "already"):
                self.use(after)  # 'not on site yet': not arrived at all
                expression, words = flags["not_on_site"]
                self.use(neg)
                self.add(expression.copy(), neg, f"'{self.items[neg].surface} {item.surface} "
                         f"{self.items[after].surface}' read as {words}")
                continue
            if neg is not None and self._group_absence(neg):
                self.use(neg)  # 'which areas have never had anything cancelled': no such record in the group
                counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=expression.copy()))
                self.add(exp.EQ(this=counted, expression=lit(0)), neg,
                         f"'{self.items[neg].surface} {item.surface}' read as groups with no record {words}",
                         having=True)
                continue
            if neg is not None:
                self.use(neg)
                expression = exp.Not(this=exp.Paren(this=expression.copy()))
                if item.value in ("tagged", "untagged"):  # a NULL test is never NULL: no three-valued trap
                    expression, words = flags["untagged" if item.value == "tagged" else "tagged"]
                else:
                    words = f"not {words}"
                self.add(expression, neg, f"'{self.items[neg].surface} {item.surface}' read as {words}")
            else:
                self.add(expression.copy(), i, f"'{item.surface}' read as {words}")
        for i, item in enumerate(self.items):  # 'arrived' / 'left' with no date: it happened
            if not item.used and item.kind == "part" and item.value[1] in ("actual", "past"):
                neg = self.negated(i)
                self.use(i)
                if item.value[0] == "start":
                    happened, words = col("is_actualized"), "actualized (is_actualized)"
                else:
                    happened, words = (exp.Not(this=exp.Is(this=col("actual_end"), expression=exp.Null())),
                                       "an actual end is recorded")
                if neg is not None and self._group_absence(neg):  # 'classes with nothing arrived yet'
                    self.use(neg)
                    counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=happened))
                    self.add(exp.EQ(this=counted, expression=lit(0)), neg,
                             f"'{self.items[neg].surface} {item.surface}' read as groups with no record {words}",
                             having=True)
                elif neg is not None:
                    self.use(neg)
                    self.add(exp.Not(this=exp.Paren(this=happened)), neg,
                             f"'{self.items[neg].surface} {item.surface}' read as not {words}")
                else:
                    self.add(happened, i, f"'{item.surface}' with no date read as {words}")

        for i, item in enumerate(self.items):  # 'records that have slipped': the event as a condition
            if item.used or item.kind != "measure" or item.value not in ("slip", "start_slip") or \
                    item.surface.lower().split()[-1] not in ("slipped", "delayed", "slipping"):
                continue
            before = i - 1
            while before >= 0 and self.items[before].kind in ("stop", "sofar", "neg"):
                before -= 1
            adjective = i + 1 < len(self.items) and self.items[i + 1].kind in ("record", "value") \
                and item.surface.lower() in ("slipped", "delayed")  # 'slipped rentals', 'delayed items'
            if not (before >= 0 and self.items[before].kind in ("verb", "record", "value")) and not adjective:
                continue
            neg = self.negated(i)
            measure = Measure(item.value)
            self.use(i, *([before] if before >= 0 and self.items[before].kind == "verb" and not adjective else []))
            expression = exp.GT(this=measure.sql(), expression=lit(0))
            if neg is not None:
                self.use(neg)
                expression = exp.Not(this=exp.Paren(this=expression))
            self.add(expression, i, f"'{item.surface}' read as {'not ' if neg is not None else ''}"
                     f"{measure.name} > 0")

    def _group_absence(self, neg: int) -> bool:
        """'no' / 'never' / 'without' before a flag in a question whose rows are groups and that asks for
        no figure: the groups where no record has it, not the records that lack it."""
        return self.grouped and self.items[neg].surface.lower() in ABSENCE and not any(
            x.kind in ("agg", "share", "measure", "super", "top", "rank") for x in self.items)

    # -- dates --------------------------------------------------------------------------------
    def read_dates(self) -> None:
        self._share_year_in_lists()
        self._year_said_once()
        for i, item in enumerate(self.items):
            if item.used or item.kind != "date":
                continue
            self._date(i, item)
        self._either_period()

    def _listed_after(self, i: int) -> int | None:
        """The date listed right after date i ('march or april', 'q1, q2 and q3'), if any."""
        k = self.next_content(i, 1, {"stop"})
        e = self.next_content(k, 1, {"stop"})
        return e if self.kind(k) in ("and", "or") and self.kind(e) == "date" else None

    def _share_year_in_lists(self) -> None:
        """'march or april 2027', 'q1 and q2 2027': the year said once, at the end of a list, is every
        listed date's year."""
        dates = [i for i, x in enumerate(self.items) if x.kind == "date" and not x.used]
        for i in reversed(dates):
            e = self._listed_after(i)
            span, end = self.items[i].span, self.items[e].span if e is not None else None
            if end is not None and span.label.endswith("(this year)") and not end.label.endswith("(this year)") \
                    and not end.relative:
                self.items[i].span = _in_year_of(span, end)

    def _year_said_once(self) -> None:
        """'planned to finish in H1 2027 but forecast to finish after June': a month said without a year in a
        question that names one year only is in that year, not in this one."""
        dates = [x for x in self.items if x.kind == "date" and not x.used and x.span is not None]
        years = {x.span.start.year for x in dates if not x.span.label.endswith("(this year)") and not x.span.relative
                 and x.span.start.year == (x.span.end - timedelta(days=1)).year}
        if len(years) != 1:
            return
        year = years.pop()
        for x in dates:
            if x.span.label.endswith("(this year)") and x.span.start.year != year:
                span = x.span
                try:
                    moved = span.start.replace(year=year), span.end.replace(year=year + (span.end.year - span.start.year))
                except ValueError:  # 29 February
                    continue
                words = span.label[:-len(" (this year)")].rsplit(" ", 1)
                label = words[0] if len(words) == 2 and words[1].isdigit() else " ".join(words)
                x.span = Span(moved[0], moved[1], f"{label} {year} (the year said elsewhere in the question)",
                              span.day, span.relative, span.open_end)

    def _either_period(self) -> None:
        """'for 2026 and 2027 starts': two periods of one date that cannot both hold mean either of them,
        not no record at all."""
        for n, (column, span, first) in enumerate(self._periods):
            for other_column, other, second in self._periods[n + 1:]:
                if other_column != column or not (span.end <= other.start or other.end <= span.start) \
                        or not any(c is first for c in self.conditions) \
                        or not any(c is second for c in self.conditions):
                    continue
                self.conditions = [c for c in self.conditions if c is not second]
                first.expression = exp.or_(exp.Paren(this=first.expression), exp.Paren(this=second.expression))
                self.notes.append(f"{column.replace('_', ' ')} in {span.label} and in {other.label} cannot both "
                                  "hold: read as either")

    def _date(self, i: int, item: Item) -> None:
        span: Span = item.span
        used = [i]
        op = "in"
        j = self.next_content(i, -1)
        if self.kind(j) == "sofar":  # 'started so far this year'
            used.append(j)
            span = Span(span.start, min(span.end, self.today + timedelta(days=1)), f"{span.label} up to today")
            j = self.next_content(j, -1)
        lead = self.live(j)
        if lead is not None and lead.kind in ("prep", "cmp", "group"):
            op = {"since": "since", "until": "until", "on": "on"}.get(lead.value, "in") if lead.kind == "prep" else (
                "until" if lead.kind == "group" else {"gt_date": "after", "lt_date": "before", "between": "between",
                                                      "lte": "until", "gte": "since", "lt": "before",
                                                      "gt": "in" if span.relative else "after"}.get(lead.value))
            if op is None:
                return
            if op == "until" and lead.surface.lower() in ("through", "thru") and self.bucketed is not None \
                    and (span.start.month, span.start.day, span.end.year) == (1, 1, span.start.year + 1):
                op = "in"  # 'running total by start month through 2027': the months of 2027
            used.append(j)
            j = self.next_content(j, -1)
        # between X and Y / from X to Y
        k = self.next_content(i, 1, {"stop"})
        e = self.next_content(k, 1, {"stop"})  # 'between today and the end of next quarter'
        if op in ("between", "since") and self.kind(k) in ("and", "prep") and self.kind(e) == "date" and (
                op == "between" or self.items[k].value == "until"):
            end = self.items[e].span
            if span.label.endswith("(this year)") and not end.label.endswith("(this year)") and not end.relative:
                span = _in_year_of(span, end)  # 'between March and May 2027': the year is said once
            span = Span(span.start, end.end, f"{span.label} to {end.label}")
            used += [k, e]
            op = "in"
        if self.kind(self.next_content(i, 1, {"stop"})) == "sofar":
            s = self.next_content(i, 1, {"stop"})
            used.append(s)
            span = Span(span.start, min(span.end, self.today + timedelta(days=1)), f"{span.label} up to today")
        part, qual, flag = None, None, None
        back = j
        while self.kind(back) in ("value", "record", "prep"):  # 'on hire at the jetty on 1 June': the flag further back
            back = self.next_content(back, -1)
        if back != j and self.kind(back) == "flag" and self.items[back].value in ("on_hire", "active"):
            j = back
        elif back != j and self.kind(back) == "part":  # 'ending at the jetty in March': the end's date
            j = back
        while True:
            target = self.live(j)
            if target is None:
                break
            if target.kind == "part" and part is None:
                part = j
            elif target.kind == "qual" and qual is None:
                qual = j
            elif target.kind == "flag" and target.value in ("on_site", "on_site_now", "active", "on_hire") and flag is None \
                    and part is None:
                flag = j
            elif target.kind == "flag" and target.value == "finished" and part is None:
                target.kind, target.value = "part", ("end", "actual")  # 'finished in March': actual end
                part = j
            elif target.kind == "prep" and target.value == "until" and part is not None:  # 'planned to end in'
                pass
            else:
                break
            j = self.next_content(j, -1)
        shared = None
        if part is None and qual is None and flag is None:  # "in March, which rentals end"? look right
            last = i
            while (listed := self._listed_after(last)) is not None:
                last = listed  # '2026 and 2027 starts': the event said after the list is every date's
            k = self.next_content(last, 1)
            if self.kind(k) == "part":
                part = k
                shared = k if last != i else None
        words = " ".join(self.items[x].surface for x in sorted(set(used + [p for p in (part, qual, flag)
                                                                              if p is not None])))
        self.use(*used, *[p for p in (part, qual, flag) if p is not None and p != shared])
        pos = min(used + [p for p in (part, qual, flag) if p is not None])
        listed = self._listed_from.get(i)
        if part is None and qual is None and flag is None and listed is not None:
            column, op = listed  # 'starting in march or april': the second date of the list, as the first
            self._range(column, span, op, f"'{words}' read as {column.replace('_', ' ')} (as the date before it)", pos, i)
            return
        if part is None and qual is None and flag is None and self.bucketed is not None:
            self._range(self.bucketed, span, op, f"'{words}' read as {self.bucketed.replace('_', ' ')} "
                        "(the date the rows are bucketed by)", pos, i)
            return
        if part is None and (qual is None):
            self._overlap(span, op, words, pos, on_site=flag is not None, said=used)
            return
        which, implied = self.items[part].value if part is not None else ("start", None)
        q = self.items[qual].value if qual is not None else whose(implied)
        column = f"{q}_{which}"
        note = "" if part is not None else " (the start, as no start or end was named)"
        self._range(column, span, op, f"'{words}' read as {column.replace('_', ' ')}{note}", pos, i)

    def _range(self, column: str, span: Span, op: str, words: str, pos: int, date_at: int) -> None:
        if (after := self._listed_after(date_at)) is not None:  # the next date of a list reads as this one
            self._listed_from[after] = (column, op)
        c = col(column)
        if op in ("in", "on") or op == "between":
            if span.day:
                self.add(exp.EQ(this=c, expression=lit(span.start)), pos, f"{words} on {span.label}")
            else:
                self.add(exp.and_(exp.GTE(this=c, expression=lit(span.start)),
                                  exp.LT(this=c.copy(), expression=lit(span.end))), pos,
                         f"{words} in {span.label}" + ("" if span.relative else f" ({span.start} to {span.last})"))
            self._periods.append((column, span, self.conditions[-1]))
        elif op == "before":
            self.add(exp.LT(this=c, expression=lit(span.start)), pos, f"{words} before {span.label} (< {span.start})")
        elif op == "after":
            self.add(exp.GTE(this=c, expression=lit(span.end)), pos, f"{words} after {span.label} (>= {span.end})")
        elif op == "since" and span.start <= self.today:
            # 'since january': from then until now, not into the future (as 'so far' runs through today)
            self.add(exp.and_(exp.GTE(this=c, expression=lit(span.start)), exp.LTE(this=c.copy(), expression=lit(self.today))),
                     pos, f"{words} since {span.label} up to today ({span.start} to {self.today})")
        elif op == "since":
            self.add(exp.GTE(this=c, expression=lit(span.start)), pos, f"{words} since {span.label} (>= {span.start})")
        else:  # until / by
            self.add(exp.LT(this=c, expression=lit(span.end)), pos, f"{words} by {span.label} (<= {span.last})")

    def _overlap(self, span: Span, op: str, words: str, pos: int, on_site: bool, said: list[int]) -> None:
        """A date with no start or end named: the record's period covers (part of) it. 'since' / 'until'
        a date with no start or end named is left unread, so the question declines naming it."""
        start, end, period = col("forecast_start"), col("forecast_end"), "the forecast period"
        if op not in ("in", "on", "between"):
            self.notes.append(f"'{words}' names no start or end")
            for x in {pos, *said}:
                self.items[x].used = False
            return
        actually = [n for n, x in enumerate(self.items) if not x.used and x.surface.lower() in ("actually", "really")]
        if on_site and actually:  # 'actually on site on 1 March 2026': arrived by then and not yet left
            self.use(*actually)
            covered = exp.and_(col("is_actualized"), exp.LTE(this=col("actual_start"), expression=lit(span.last)),
                               exp.Paren(this=exp.or_(exp.Is(this=col("actual_end"), expression=exp.Null()),
                                                      exp.GTE(this=col("actual_end"), expression=lit(span.start)))))
            self.add(covered, pos, f"'{self.items[actually[0]].surface} {words}' read as on site by the actual dates: "
                                   f"arrived by {span.last} and not left before {span.start}")
            return
        self.add(exp.and_(exp.LTE(this=start, expression=lit(span.last)), exp.GTE(this=end, expression=lit(span.start))),
                 pos, f"'{words}' read as {period} overlapping {span.label} ({span.start} to {span.last})"
                 if not span.day else f"'{words}' read as {period} covering {span.label}")

    # -- amounts and comparisons between columns ----------------------------------------------
    def read_amounts(self) -> None:
        for i, item in enumerate(self.items):
            if not item.used and item.kind == "cmp" and item.value != "between":
                self._comparison(i)
            elif not item.used and item.kind == "cmp":
                self._between(i)

    def _left(self, i: int) -> tuple[list[int], str | None, str | None, str | None]:
        """Items before a comparator: (indices, measure key, qual, date part); 'by' is skipped."""
        indices, measure, qual, part = [], None, None, None
        j = self.next_content(i, -1)
        if self.kind(j) == "neg" and self.kind(self.next_content(j, -1)) in ("part", "measure"):
            j = self.next_content(j, -1)  # 'the forecast start isn't the same as ...': the negation is read apart
        if self.kind(j) == "group" and self.items[j].surface.lower() == "by":
            indices.append(j)
            j = self.next_content(j, -1)
        prev = i
        while (item := self.live(j)) is not None:
            if self._clause_between(j, prev):  # 'the overrun of the items that went over plan': not its left
                break
            if self._group_clause_between(j, prev):
                break  # 'average rate per area for areas with more than 100 rentals': the rate is not its left
            prev = j
            if item.kind == "measure" and measure is None and part is None:
                measure = item.value
            elif item.kind == "qual" and qual is None:
                qual = item.value
            elif item.kind == "part" and part is None and measure is None:
                part = item.value
            elif item.kind == "flag" and item.value == "over_budget" and measure is None:
                measure = "cost_variance"
            elif item.kind == "sofar" and not indices and item.surface.lower() in ("already", "yet"):
                pass  # 'the actual cost has already gone past ...'
            elif item.kind == "flag" and item.value == "finished" and part is None and measure is None:
                part = ("end", "actual")  # 'finished earlier than their forecast end'
            elif item.kind == "agg" and item.value in ("sum", "avg", "median") and self.grouped:
                pass  # 'areas where the average rate is above ...': the group's aggregate
            elif item.kind == "super" and item.value[0] in ("min", "max") and item.value[1] in (None, "cost") \
                    and self.grouped and measure is not None:
                pass  # 'categories where the cheapest purchase price is under 5k': the group's minimum
            else:
                break
            indices.append(j)
            j = self.next_content(j, -1)
        return indices, measure, qual, part

    def _measure(self, key: str | None, qual: str | None) -> Measure | None:
        if key == "cost" or (key is None and qual is not None):
            return Measure(COST[qual or "forecast"])
        if key == "duration":
            return Measure("duration", qual or "forecast")
        if key == "actual_duration":  # time on site: the actual period, left out while still open
            return Measure("duration", "actual")
        if key in ("days_overdue", "days_on_site"):
            return Measure(key, today=self.today)
        return Measure(key) if key else None

    def _comparison(self, i: int) -> None:
        op = self.items[i].value
        kind = op.split("_")[1] if "_" in op else None
        op = op.split("_")[0]
        left, key, qual, part = self._left(i)
        if kind == "cost" and key is None:
            key = "cost"
        if kind == "duration" and key is None:
            key = "duration"
        neg = self.negated(min(left) if left else i)
        if neg is None and self.kind(self.next_content(i, -1)) == "neg":
            neg = self.next_content(i, -1)  # 'the forecast start isn't the same as the planned start'
        j = self.next_content(i, 1, {"stop"})
        right = self.live(j)
        if right is None:
            return
        restated = self._value_restated(j)  # 'cranes above the crane average': the same records' average
        if restated is not None:
            j, right = restated, self.live(restated)
        multiple = factor_at(self, j)  # 'more than double the average', '5x the average price'
        if multiple is not None and self.kind(multiple[2]) == "agg" and self.items[multiple[2]].value == "avg" \
                and kind in (None, "cost", "duration"):
            self._versus_average(i, toward(op, self, multiple[1]), left, key, qual, part, multiple[2], neg,
                                 multiple[0], multiple[1])
        elif multiple is not None and not percent(self, multiple[1]) and self.kind(multiple[2]) in ("qual", "measure") \
                and kind in (None, "cost", "duration"):  # '1.5x their plan cost' ('10% under plan' is an amount)
            self._columns(i, op, kind, left, key, qual, part, multiple[2], neg, multiple[0], multiple[1])
        elif right.kind == "num":
            self._amount(i, op, kind, left, key, qual, part, j, neg)
        elif right.kind in ("qual", "measure", "part") or (right.kind == "value" and right.value[0] == ("source", "Purchase")):
            self._columns(i, op, kind, left, key, qual, part, j, neg)
        elif right.kind == "agg" and right.value == "avg" and kind in (None, "cost", "duration"):
            self._versus_average(i, op, left, key, qual, part, j, neg)

    def _value_restated(self, j: int) -> int | None:
        """'above the crane average', 'over the jetty rental average': stored values said again before
        'average' that the question already restricts to (said elsewhere too). They add nothing: the
        average is over the question's records. Returns the 'average' item; values said only there name
        other records, so nothing is returned and the comparison is left unread."""
        run, k = [], j
        while self.kind(k) == "value":
            run.append(k)
            k = self.next_content(k, 1, {"stop"})
        if not run or self.kind(k) != "agg" or self.items[k].value != "avg":
            return None
        said = {v for x, item in enumerate(self.items) if x not in run and item.kind == "value" for v in item.value}
        if not all(set(self.items[x].value) & said for x in run):
            return None
        self.use(*run)
        self.notes.append(f"'{self._words(run)}' before 'average' read as the same records as the question's")
        return k

    def _versus_average(self, i, op, left, key, qual, part, j, neg, factor: float = 1.0,
                        factor_items: list[int] = ()) -> None:
        """'costs more than the average forecast cost', 'areas whose total variance is above the average
        area's': compared with one figure computed over the same records (a scalar subquery)."""
        k = j + 1
        while k < len(self.items) and self.items[k].kind in ("stop", "verb"):
            k += 1
        per_group = None
        if k < len(self.items) and self.items[k].kind == "dim":
            per_group = k  # 'the average area's variance': the average of the groups' totals
        else:
            k = j
        k = self.next_content(k, 1, SKIP | {"value"})
        r_idx, r_key, r_qual, r_part = self._right_operand(k)
        if not (r_key or r_qual or r_part) and (key or qual) and part is None:
            r_key, r_qual = key, qual  # 'costing less than half the average': the same figure's average
        if r_part is not None or not (r_key or r_qual):
            return
        rm = self._measure(r_key, r_qual)
        lm = self._measure(key, qual) or rm
        if part is not None or lm.key != rm.key:
            return  # a figure compared with the average of another one: not read
        averaged = self._average_said_before(left)
        if not self.grouped and per_group is None and factor == 1 and averaged is not None \
                and self.next_content(max([j, *r_idx]), 1, SKIP | {"stop"}) >= len(self.items):
            # 'is the jetty's average variance worse than the site-wide average': two figures, side by side
            used = sorted({*left, averaged, i, j, *r_idx, *([neg] if neg is not None else [])})
            self.use(*used)
            overall = exp.select(exp.Avg(this=rm.sql())).from_(VIEW)
            self.figures += [(f"avg_{lm.alias}", exp.Avg(this=lm.sql())),
                             (f"overall_avg_{rm.alias}", exp.Subquery(this=overall))]
            self.notes.append(f"'{self._words(used)}' read as two figures side by side: the average {lm.name} of the "
                              f"records asked about and the average {rm.name} over all records")
            return
        func = self._agg_before(left) if self.grouped else None
        if self.grouped and func is None:
            func = "sum"
        if per_group is not None:
            column = self.items[per_group].value
            if not self.grouped or func != "sum":
                return
            inner = exp.select(exp.alias_(exp.Sum(this=rm.sql()), "group_total")).from_(VIEW).group_by(col(column))
            average = exp.select(exp.Avg(this=col("group_total"))).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("per_group"))))
            target_note = f"the average over {column} groups of their total {rm.name}"
        else:
            if self.grouped and func != "avg":
                return  # a group's total against the average record: not a comparison people mean
            inner = exp.select(exp.Avg(this=rm.sql())).from_(VIEW)
            average = inner
            target_note = f"the average {rm.name} over the same records"
        self.deferred.append(inner)
        left_sql = lm.sql() if func is None else {"sum": exp.Sum, "avg": exp.Avg}[func](this=lm.sql())
        final = op if neg is None else FLIP[op]
        used = [*left, i, *factor_items, j, *r_idx] \
            + ([per_group] if per_group is not None and not self.items[per_group].used else []) \
            + ([neg] if neg is not None else [])
        self.use(*used)
        show = (f"{func}_{lm.alias}", left_sql.copy()) if func else None
        target = exp.Subquery(this=average)
        if factor != 1:
            target, target_note = exp.Mul(this=lit(round(factor, 6)), expression=target), f"{factor:g} x {target_note}"
        self.add(compare(final, left_sql, target), min(used),
                 f"'{self._words(used)}' read as {('the group' + chr(39) + 's ' + ('total ' if func == 'sum' else 'average ')) if func else ''}"
                 f"{lm.name} {WORDS.get(final, final)} {target_note}", having=func is not None, show=show)

    def _right_operand(self, j: int) -> tuple[list[int], str | None, str | None, str | None]:
        indices, key, qual, part = [], None, None, None
        while (item := self.live(j)) is not None:
            if item.kind == "qual" and qual is None:
                qual = item.value
            elif item.kind == "measure" and key is None:
                key = item.value
            elif item.kind == "part" and part is None:
                part = item.value
            else:
                break
            indices.append(j)
            j = self.next_content(j, 1, {"stop"})
        return indices, key, qual, part

    def _columns(self, i, op, kind, left, key, qual, part, j, neg, factor: float = 1.0,
                 factor_items: list[int] = ()) -> None:
        right = self.items[j]
        if factor != 1 and (right.kind != "qual" and right.kind != "measure"):
            return
        if kind == "date" and key in ("duration", "actual_duration"):
            return  # 'stayed on site before it left': a length is not before or after a date
        if right.kind == "value":  # "cost more than purchase would": the record's own purchase price
            if key not in (None, "cost") or part or right.plural:
                return  # 'than their purchases' names other records, not this one's price
            measure = self._measure("cost", qual)
            self.use(i, j, *left)
            expression = compare(op if neg is None else FLIP[op], measure.sql(), col("purchase_price"))
            self.add(expression, min([i, *left]), f"'{self._words([*left, i, j])}' read as {measure.name} "
                     f"{WORDS[op]} the record's purchase price (records without a purchase price are left out)")
            return
        r_indices, r_key, r_qual, r_part = self._right_operand(j)
        if r_key is None and r_qual is not None and r_part is None and key is not None:
            after = r_indices[-1] + 1 if r_indices else j + 1
            if after < len(self.items) and self.items[after].surface.lower() in ("one", "ones") and not self.items[after].used:
                r_key, r_indices = key, [*r_indices, after]  # 'the forecast period over the planned one'
            elif kind == "duration" or key == "duration":
                r_key = "duration"  # 'running longer than planned': the planned period
        dates = kind == "date" or part is not None or r_part is not None
        groups_compared = False
        if dates:
            which = (part or r_part or ("end", None))[0]
            l_col = f"{qual or whose(part[1] if part else None)}_{which}"
            r_which = (r_part or part or ("end", None))[0]
            r_col = f"{r_qual or whose(r_part[1] if r_part else None)}_{r_which}"
            if l_col == r_col:
                return
            left_sql, right_sql, l_name, r_name = col(l_col), col(r_col), l_col, r_col
        else:
            lm = self._measure(key, qual) or Measure("forecast_cost")
            rm = self._measure(r_key if r_key != "cost" or r_qual else ("cost" if lm.key.endswith("_cost") else r_key),
                               r_qual) if (r_key or r_qual) else None
            if rm is None or lm.days != rm.days or lm == rm:
                return
            left_sql, right_sql, l_name, r_name = lm.sql(), rm.sql(), lm.name, rm.name
            # 'per area, how many items have an actual cost above their plan cost': each record's own
            # figures, counted per group; otherwise a condition on groups compares their totals
            groups_compared = self.grouped and not (self._counts_records() and not self._named_aggregate(left)) \
                and not self._said_of_records(min(left) if left else i)
            if groups_compared:
                left_sql, right_sql = exp.Sum(this=left_sql), exp.Sum(this=right_sql)
                l_name, r_name = f"the group's total {l_name}", f"total {r_name}"
        if factor != 1:
            if dates:
                return  # a multiple of a date: not a comparison people mean
            right_sql, r_name = exp.Mul(this=lit(round(factor, 6)), expression=right_sql), f"{factor:g} x {r_name}"
        final = op if neg is None else FLIP[op]
        indices = [*left, i, *factor_items, *r_indices] + ([neg] if neg is not None else [])
        self.use(*indices)
        self.add(compare(final, left_sql, right_sql), min(indices),
                 f"'{self._words(indices)}' read as {l_name} {WORDS.get(final, final)} {r_name}",
                 having=groups_compared)

    def _amount(self, i, op, kind, left, key, qual, part, j, neg) -> None:
        number = self.items[j].value
        used = [*left, i, j]
        left_items, group_level = list(left), False
        k = self.next_content(j, 1, {"stop"})
        if self._per_month(j, k):  # '10,000 a month', '10k per month', '10k monthly': a monthly rate
            m = self.next_content(k, 1, {"stop"}) if self.kind(k) == "group" else k
            if measure_key := {None: "monthly_rate", "cost": "monthly_rate", "monthly_rate": "monthly_rate"}.get(
                    key if qual is None else "other"):
                used += [k, m] if m != k else [k]
                key, k = measure_key, self.next_content(m, 1, {"stop"})
                before = self.next_content(min(used), -1, {"stop"})
                if not self.grouped and self.kind(before) == "agg" and self.items[before].value in ("avg", "median"):
                    used.append(before)  # 'rentals averaging over 10k a month': each record's rate
                self.notes.append(f"'{self._words([j, *used[used.index(j) + 1:]])}' read as an amount per month: "
                                  "the monthly rate")
            else:
                return  # another measure per month: left for the leftover check
        unit = self.items[k].value if self.kind(k) == "unit" else None
        said_days = self.live(k)
        if unit is None and said_days is not None and said_days.kind == "measure" and said_days.value in (
                "duration", "actual_duration") and said_days.surface.lower().startswith("days") and key is None:
            # 'forecast for fewer than 100 days on hire': a length in days, of the period named before it
            unit, key = "day", said_days.value if qual is None else "duration"
        if unit:
            used.append(k)
            k = self.next_content(k, 1, {"stop"})
        averaged = self.live(k)  # 'which classes cost more than 50k on average': the group's average
        on_average = self.grouped and averaged is not None and averaged.kind == "agg" and averaged.value == "avg" \
            and averaged.surface.lower() in ("on average", "on avg", "on avg.", "average", "avg", "in average")
        if on_average:
            used.append(k)
            k = self.next_content(k, 1, {"stop"})
        value = number.value
        if unit and self.kind(k) == "cmp" and self.items[k].value in ("gt_date", "lt_date") and key is None \
                and self._date_gap(i, op, used, k, value * DAYS_IN[unit], neg, part, qual):
            return
        if self.grouped and key is None and qual is None and part is None and not unit and not number.percent \
                and self._filtered_total(i, op, used, k, value, neg):
            return
        # against another measure: '10% under plan', 'more than 20% over budget', 'more than 50k over plan'
        direction = self.items[k].value.split("_")[0] if self.kind(k) == "cmp" else None
        # '60 days longer than their planned period': a length against another length, in days
        longer = unit is not None and self.kind(k) == "cmp" and self.items[k].value in ("gt_duration", "lt_duration")
        if direction in ("gt", "lt") and (number.percent or longer or self.items[k].surface.lower().split()[0] in RELATIVE_WORDS):
            r_indices, r_key, r_qual, r_part = self._right_operand(self.next_content(k, 1, {"stop"}))
            if longer and r_key is None and r_qual is not None and key == "duration":
                r_key = "duration"  # 'longer than planned': the planned period
            if (r_qual or r_key) and (number.percent or r_part is None):
                lm = self._measure(key, qual) or Measure("forecast_cost")
                rm = self._measure(r_key, r_qual)
                if rm is None or rm == lm or (not number.percent and lm.days != rm.days) or (longer and not lm.days):
                    return
                if unit is not None and not number.percent:
                    value = value * DAYS_IN[unit]
                if number.percent:
                    factor = 1 + value / 100 if direction == "gt" else 1 - value / 100
                    # at least 10% under: L <= R * 0.9; at least 10% over: L >= R * 1.1
                    final = {("gt", "gte"): "gte", ("gt", "gt"): "gt", ("lt", "gte"): "lte", ("lt", "gt"): "lt",
                             ("gt", "lt"): "lt", ("gt", "lte"): "lte", ("lt", "lt"): "gt", ("lt", "lte"): "gte"}.get(
                        (direction, op))
                    if final is None:
                        return
                    left, right = lm.sql(), exp.Mul(this=rm.sql(), expression=lit(round(factor, 6)))
                    reading = f"{lm.name} {{}} {rm.name} x {factor:g}"
                    # 'categories whose (total) forecast is more than 3% over the budget': the groups' totals,
                    # unless records are counted or the clause is said of a record noun (as in _columns)
                    if self.grouped and not (self._counts_records() and not self._named_aggregate(left_items)) \
                            and not self._said_of_records(min(left_items) if left_items else i):
                        left, right = exp.Sum(this=lm.sql()), exp.Mul(this=exp.Sum(this=rm.sql()), expression=lit(round(factor, 6)))
                        reading = f"the group's total {lm.name} {{}} its total {rm.name} x {factor:g}"
                        group_level = True
                else:  # 'forecast more than 50k over plan': forecast - plan > 50k; '... under plan': plan - forecast
                    final = op
                    high, low = (lm, rm) if direction == "gt" else (rm, lm)
                    left, right = exp.Paren(this=exp.Sub(this=high.sql(), expression=low.sql())), lit(value)
                    reading = f"{high.name} - {low.name} {{}} {value:,.10g}"
                    if self.grouped and not left_items and self._said_of_group(i):
                        # 'which zones are more than 1.5 million over plan': the zone's totals
                        left = exp.Sub(this=exp.Sum(this=high.sql()), expression=exp.Sum(this=low.sql()))
                        reading = f"the group's total {high.name} - its total {low.name} {{}} {value:,.10g}"
                        group_level = True
                if neg is not None:
                    final = FLIP[final]
                    used.append(neg)
                used += [k, *r_indices]
                self.use(*used)
                shown = None
                if group_level:
                    shown = (f"sum_{lm.alias}", left.copy()) if number.percent else ("difference", left.copy())
                self.add(compare(final, left, right), min(used),
                         f"'{self._words(used)}' read as " + reading.format(WORDS.get(final, final)), having=group_level,
                         show=shown)
                return
        if key is None and qual is None and part is None and not unit and self.kind(k) == "prep" and \
                self.items[k].value == "in":  # 'add up to more than 10 million in purchase price'
            r_indices, r_key, r_qual, r_part = self._right_operand(self.next_content(k, 1, {"stop"}))
            if r_key is not None and r_part is None:
                key, qual = r_key, r_qual
                used += [k, *r_indices]
                k = self.next_content(max(r_indices), 1, {"stop"})
        if key is None and qual is None and part is None and not unit and self.kind(k) in ("measure", "qual"):
            r_indices, r_key, r_qual, r_part = self._right_operand(k)  # 'more than 5 million actually spent'
            if r_part is None and (r_key or r_qual) and r_key not in DAY_MEASURES | {"duration", "actual_duration"}:
                key, qual = r_key, r_qual
                used += r_indices
                k = self.next_content(max(r_indices), 1, {"stop"})
                said_of = self.live(self.next_content(i, -1, {"stop", "verb"}))
                # 'categories with more than 5 million actually spent': the group's total, as no record is named
                group_total = self.grouped and not left and (said_of is None or said_of.kind not in ("record", "value"))
        else:
            group_total = False
        measure = self._measure(key, qual)
        if measure is None and part is not None:
            return
        counted = self.live(k)
        if number.percent and measure is None and not unit:
            return  # 'over 20% of their items on site': a share of each group, not a count; left unread
        if measure is None and not unit and counted is not None and counted.kind == "flag" and self.grouped:
            run = [k]  # 'areas with more than 6 cancelled items': count the records with those flags
            m = self.next_content(k, 1, {"stop"})
            while self.kind(m) in ("flag", "value"):
                run.append(m)
                m = self.next_content(m, 1, {"stop"})
            noun = self.items[run[-1]].surface.lower()  # 'fewer than 5 cancellations': the flag said as a noun
            if self.kind(m) == "record" or (0 <= m < len(self.items) and self.items[m].kind == "record") or (
                    len(run) == 1 and noun.endswith("s") and not noun.endswith("ss")) or (
                    self.items[run[-1]].kind == "value"):  # 'at least 5 cancelled purchases'
                self._count_having(i, op, used + run[:-1], run[-1], value, neg, extra=run[:-1])
                return
        if measure is None and not unit and counted is not None and counted.kind in ("record", "value") and self.grouped:
            self._count_having(i, op, used, k, value, neg)
            return
        if measure is None and not unit and (right := self.live(k)) is not None and right.kind == "measure" \
                and right.value in ("slip", "arrival_delay", "start_slip"):
            measure = Measure(right.value)
            used.append(k)
        if unit:
            days = value * DAYS_IN[unit]
            if measure is None:
                after = self.live(k)
                stay = self.items[self.next_content(min(used), -1, {"stop"})] if min(used) > 0 else None
                if after is not None and after.kind == "flag" and after.value == "overdue":
                    measure = Measure("slip")
                    used.append(k)
                elif qual is None and stay is not None and stay.kind == "flag" and \
                        stay.value in ("on_site", "on_site_now", "on_hire", "active"):
                    return  # 'on site for more than 6 months': the stay so far, not a planned length
                elif qual is None and any(x.kind == "flag" and x.value == "on_site_now" for x in self.items) \
                        and up_to_now(self.items):
                    measure = Measure("days_on_site", today=self.today)  # 'on site now, been there over 500 days'
                else:
                    measure = Measure("duration", qual or "forecast")
            if not measure.days:
                return
            value = days
            unit_note = f" ({number.surface} {self.items[used[used.index(j) + 1]].surface} = {days:g} days)" \
                if unit != "day" else ""
        else:
            unit_note = ""
            if measure is None:
                if not number.money and value < 1000:
                    return  # 'more than 50': fifty of what? left for the leftover check
                if not number.money and value.is_integer() and 1990 <= value <= 2100 and "," not in \
                        self.items[j].surface:
                    return  # 'over 2027' may be a year: not read as an amount of money
                measure = Measure("forecast_cost")
                self.notes.append(f"'{number.surface}' with no measure named read as forecast cost")
            if measure.days:
                return
        if number.percent:
            if measure.key != "cost_variance":
                return
            of_plan = self.live(k)  # '5% of their budget': the plan cost it is a share of, said
            if of_plan is not None and ((of_plan.kind == "measure" and of_plan.value == "plan_cost") or (
                    of_plan.kind == "qual" and of_plan.value == "plan")):
                used.append(k)
                m = self.next_content(k, 1, {"stop"})
                if of_plan.kind == "qual" and self.kind(m) == "measure" and self.items[m].value == "cost":
                    used.append(m)
            right = exp.Mul(this=col("plan_cost"), expression=lit(value / 100))
            target, words = right, f"{value:g}% of plan cost"
        else:
            target, words = lit(value), f"{value:,.10g}"
        final = op if neg is None else FLIP[op]
        if neg is not None:
            used.append(neg)
        expression = measure.sql()
        having, show, func = False, None, None
        if on_average:
            func = "avg"
        elif self.grouped and not (self._counts_records() and not self._named_aggregate(left)):
            func = self._agg_before(left)  # 'per area, how many items slipped ...' stays a record's own figure
        if func is None and group_total and not number.percent:
            func = "sum"
        if func is not None:
            if func == "median" or (func in ("min", "max") and number.percent):
                return  # a median per group in a condition: not read
            expression = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[func](this=expression)
            if number.percent:  # the group's variance against the same aggregate of its plan cost
                target = exp.Mul(this={"sum": exp.Sum, "avg": exp.Avg}[func](this=col("plan_cost")),
                                 expression=lit(value / 100))
                words = f"{value:g}% of its {'total' if func == 'sum' else 'average'} plan cost"
            having = True
            show = (f"{func}_{measure.alias}", expression.copy())
        self.use(*used)
        self.add(compare(final, expression, target), min(used),
                 f"'{self._words(used)}' read as "
                 f"{('the group' + chr(39) + 's ' + FUNC_WORDS.get(func, 'average') + ' ') if having else ''}"
                 f"{measure.name} {WORDS.get(final, final)} {words}{unit_note}", having=having, show=show)

    def _per_month(self, j: int, k: int) -> bool:
        """An amount followed by 'a month' / 'per month' / 'monthly' (not 'months'): a rate, not a length."""
        number = self.items[j].value
        if number.percent:
            return False
        if self.kind(k) == "group" and self.items[k].surface.lower() in ("per", "each", "every", "a"):
            k = self.next_content(k, 1, {"stop"})
        elif self.kind(k) == "unit" and self.items[k].surface.lower() in ("monthly", "a month"):
            return True
        elif not (self.kind(k) == "unit" and 0 < k - j and any(
                self.items[x].surface.lower() in ("a", "per", "each", "every") for x in range(j + 1, k))):
            return False
        return self.kind(k) == "unit" and self.items[k].value == "month" and not self.items[k].plural

    def _clause_between(self, a: int, b: int) -> bool:
        """A record noun and 'that / which / who' after it between items a and b."""
        between = self.items[a + 1:b]
        return any(x.kind == "record" and any(y.surface.lower().split()[0] in ("that", "which", "who")
                                              for y in between[k + 1:]) for k, x in enumerate(between))

    def _group_clause_between(self, a: int, b: int) -> bool:
        """A group noun and 'with / where / whose / having / that' after it between items a and b: what
        follows is said of the groups, not of a measure named before them."""
        between = self.items[a + 1:b]
        return any(x.kind in ("dim", "group") and any(
            y.kind == "stop" and y.surface.lower() in ("with", "where", "whose", "having", "that", "which")
            for y in between[k + 1:]) for k, x in enumerate(between))

    def _said_of_group(self, i: int) -> bool:
        """'which zones are more than 1.5 million over plan': the words before the comparison are the
        group noun itself (with a verb), so the amount is said of each group, not of its records."""
        j = i - 1
        while j >= 0 and self.items[j].kind in ("stop", "verb"):
            j -= 1
        return j >= 0 and self.items[j].kind == "dim"

    def _said_of_records(self, start: int) -> bool:
        """'(the average overrun on) the items that went over plan': a clause on a record noun is
        each record's own condition, also in a question about groups."""
        j, clause = start - 1, False
        while j >= 0 and self.items[j].kind in ("stop", "verb", "sofar"):
            clause = clause or self.items[j].surface.lower().split()[0] in ("that", "which", "who")
            j -= 1
        return clause and j >= 0 and self.items[j].kind == "record"

    def _counts_records(self) -> bool:
        """The question counts records ('how many items', 'the number of rentals that ...')."""
        for i, item in enumerate(self.items):
            if item.kind == "agg" and item.value == "count" and not item.used:
                nxt = self.next_content(i, 1, {"stop"})
                if self.kind(nxt) in ("record", "value", "verb"):
                    return True
        return False

    def _named_aggregate(self, left: list[int]) -> bool:
        """An aggregate said before the measure of a condition ('the average rate above ...')."""
        if not left or any(self.items[x].kind == "agg" for x in left):
            return bool(left)
        item = self.live(self.next_content(min(left), -1))
        return item is not None and item.kind == "agg" and item.value in ("sum", "avg", "median")

    def _average_said_before(self, left: list[int]) -> int | None:
        """The 'average' of 'the average variance', 'the average crane rate' before a compared measure."""
        if not left:
            return None
        named = [x for x in left if self.items[x].kind == "agg"]
        if named:
            return named[0] if self.items[named[0]].value == "avg" else None
        j = self.next_content(min(left), -1)
        if self.kind(j) == "value":  # 'the average crane rate'
            j = self.next_content(j, -1)
        return j if self.kind(j) == "agg" and self.items[j].value == "avg" else None

    def _agg_before(self, left: list[int]) -> str | None:
        """The aggregate a condition on groups applies to: named ('average rate above') or the total."""
        if not left:
            return None
        named = [self.items[x].value for x in left if self.items[x].kind == "agg"]
        if named:
            return named[0]
        lowest = [self.items[x].value[0] for x in left if self.items[x].kind == "super"]
        if lowest:
            return lowest[0]  # 'the cheapest price', 'the highest rate' of a group: its min / max
        j = self.next_content(min(left), -1)
        item = self.live(j)
        if item is not None and item.kind == "agg" and item.value in ("sum", "avg", "median"):
            self.use(j)
            return item.value
        if any(self.items[x].kind == "measure" and self.items[x].value in DAY_MEASURES | {"duration"} for x in left):
            return "avg"  # a length per group is its average
        # 'areas whose forecast exceeds 2m': plan / forecast / actual alone is that cost, the group's
        # total; said of records ('10 items with forecast over 100k'), each record's
        of_groups = not any(x.kind in ("record", "value") for x in self.items[:min(left)])
        return "sum" if any(self.items[x].kind == "measure" or (of_groups and self.items[x].kind == "qual" and
                                                                self.items[x].value in ("plan", "forecast", "actual"))
                            for x in left) else None

    def _date_gap(self, i, op, used, k, days, neg, part, qual) -> bool:
        """'ending more than 2 weeks after their planned end', 'came in more than 3 days after their
        forecast start': the days between two of the record's own dates, compared with the amount."""
        if part is None:  # the date said before, as 'arrived ... more than 3 days after'
            before = [x for x in range(i - 1, -1, -1) if self.kind(x) == "part"]
            if not before or self._clause_between(before[0], i):
                return False
            part, used = self.items[before[0]].value, used + [before[0]]
        r_indices, r_key, r_qual, r_part = self._right_operand(self.next_content(k, 1, {"stop"}))
        if r_part is None or r_key is not None:
            return False
        l_col = f"{qual or whose(part[1])}_{part[0]}"
        r_col = f"{r_qual or whose(r_part[1])}_{r_part[0]}"
        if l_col == r_col:
            return False
        later, earlier = (l_col, r_col) if self.items[k].value == "gt_date" else (r_col, l_col)
        gap = exp.Paren(this=exp.Sub(this=col(later), expression=col(earlier)))
        final = op if neg is None else FLIP[op]
        used = used + [k, *r_indices] + ([neg] if neg is not None else [])
        self.use(*used)
        self.add(compare(final, gap, lit(days)), min(used),
                 f"'{self._words(used)}' read as {later} - {earlier} {WORDS.get(final, final)} {days:g} days")
        return True

    def _run_condition(self, indices: list[int]) -> exp.Expression | None:
        """The stored values and flags of a run of items ('cancelled rental'), all of them at once."""
        parts = []
        for x in indices:
            it = self.items[x]
            if it.kind == "value":
                column = it.value[0][0]
                values = [v for _, v in it.value]
                parts.append(exp.EQ(this=col(column), expression=lit(values[0])) if len(values) == 1 else exp.In(
                    this=col(column), expressions=[lit(v) for v in values]))
            elif it.kind == "flag":
                parts.append(self.flag_table()[it.value][0].copy())
        return exp.and_(*parts) if parts else None

    def _filtered_total(self, i, op, used, k, value, neg) -> bool:
        """'manufacturers with over 2 million of cancelled forecast cost': the group's total of a figure
        over some of its records (SUM ... FILTER), not each record's figure and not a count of records."""
        run, m = [], k
        while self.kind(m) in ("flag", "value"):
            if self.kind(m) == "flag" and self.items[m].value not in self.flag_table():
                return False
            run.append(m)
            m = self.next_content(m, 1, {"stop"})
        if not run or self.kind(m) not in ("measure", "qual"):
            return False
        r_indices, r_key, r_qual, r_part = self._right_operand(m)
        measure = self._measure(r_key, r_qual)
        if r_part is not None or measure is None or measure.days or measure.key == "duration":
            return False
        condition = self._run_condition(run)
        total = exp.Filter(this=exp.Sum(this=measure.sql()), expression=exp.Where(this=condition))
        final = op if neg is None else FLIP[op]
        used = used + run + r_indices + ([neg] if neg is not None else [])
        self.use(*used)
        named = " ".join(self.items[x].surface for x in run)
        self.add(compare(final, total, lit(value)), min(used),
                 f"'{self._words(used)}' read as groups whose total {measure.name} of their {named} records is "
                 f"{WORDS[final]} {value:,.10g} (that total shown)", having=True,
                 show=(f"{measure.alias}_of_matching", total.copy()))
        return True

    def _count_having(self, i, op, used, k, value, neg, extra: list[int] | None = None) -> None:
        condition = self._run_condition([*(extra or []), k])
        count = exp.Count(this=exp.Star())
        if condition is not None:
            count = exp.Filter(this=count, expression=exp.Where(this=condition))
        final = op if neg is None else FLIP[op]
        used = used + [k] + ([neg] if neg is not None else [])
        self.use(*used)
        named = " ".join(self.items[x].surface for x in [*(extra or []), k] if self.items[x].kind != "record")
        self.add(compare(final, count, lit(value)), min(used),
                 f"'{self._words(used)}' read as groups with {WORDS[final]} {value:g} {named or 'records'}"
                 + (" (that count shown)" if condition is not None else ""), having=True,
                 show=("matching_records", count.copy()) if condition is not None else None)

    def _between(self, i: int) -> None:
        left, key, qual, part = self._left(i)
        j = self.next_content(i, 1, {"stop"})
        k = self.next_content(j, 1, {"stop"})
        m = self.next_content(k, 1, {"stop"})
        if not (self.kind(j) == "num" and self.kind(k) == "and" and self.kind(m) == "num"):
            return
        low, high = self.items[j].value, self.items[m].value
        used = [*left, i, j, k, m]
        n = self.next_content(m, 1, {"stop"})
        unit = self.items[n].value if self.kind(n) == "unit" else None
        measure = self._measure(key, qual)
        if unit:
            used.append(n)
            factor = DAYS_IN[unit]
            measure = measure or Measure("duration", qual or "forecast")
            if not measure.days:
                return
            lo, hi = low.value * factor, high.value * factor
        else:
            if measure is None:
                if not (low.money or high.money):
                    return
                measure = Measure("forecast_cost")
            if measure.days:
                return
            lo, hi = low.value, high.value
        self.use(*used)
        self.add(exp.Between(this=measure.sql(), low=lit(lo), high=lit(hi)), min(used),
                 f"'{self._words(used)}' read as {measure.name} between {lo:,.10g} and {hi:,.10g} (both included)")

    def _words(self, indices: list[int]) -> str:
        return " ".join(self.items[x].surface for x in sorted(set(indices), key=lambda x: self.items[x].start))
