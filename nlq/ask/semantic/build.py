"""The pieces of a statement as sqlglot trees: measures, conditions, aggregates, the final SELECT.

Values only ever enter as literal nodes; column names come from this module's own tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

VIEW = "pfa_merged"
LIST_COLUMNS = ("id", "category", "class", "area", "source", "forecast_start", "forecast_end", "forecast_cost")
COST = {"plan": "plan_cost", "forecast": "forecast_cost", "actual": "actual_cost"}
DAY_MEASURES = {"duration", "slip", "start_slip", "arrival_delay", "days_overdue", "days_on_site"}
NAMES = {"forecast_cost": "forecast cost", "plan_cost": "plan cost", "actual_cost": "actual cost",
         "cost_variance": "cost variance (forecast - plan)", "monthly_rate": "monthly rate",
         "purchase_price": "purchase price", "slip": "slip in days (forecast end - plan end)",
         "start_slip": "start slip in days (forecast start - plan start)",
         "arrival_delay": "arrival delay in days (actual start - plan start)",
         "remaining_cost": "cost still to come (forecast cost - actual cost)",
         "days_overdue": "days overdue (today - forecast end)",
         "days_on_site": "days on site so far (today - actual start)"}


FLAGS = {"is_actualized", "is_discontinued", "is_funds_transferable", "has_draft"}


def condition_columns(conditions: list[exp.Expression]) -> list[str]:
    """The columns a list's conditions are about, in the order the question named them, so the list
    shows the values it was filtered on ("arrived before their planned start" shows both dates).

    Flags are left out (every row has the same value), and so is a column only tested for being
    empty ("without a tag"), as is any column of a subquery (a site-wide average is not a value of
    the row)."""
    names: list[str] = []
    for condition in conditions:
        for column in condition.find_all(exp.Column):
            name = column.name
            if name in FLAGS or name in names or column.find_ancestor(exp.Subquery, exp.Select) is not None:
                continue
            parent = column.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if isinstance(parent, exp.Is) and not isinstance(parent.parent, exp.Not):
                continue
            names.append(name)
    return names


def col(name: str) -> exp.Column:
    return exp.column(name)


def lit(value) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return exp.Literal.number(value)


@dataclass(frozen=True)
class Measure:
    """A number per record: a column or a difference of dates, with its name for aliases and notes."""

    key: str  # forecast_cost, duration, slip, ...
    qual: str = "forecast"  # for durations: whose period
    today: date | None = None  # for days overdue: the question's today, as its other dates

    @property
    def days(self) -> bool:
        return self.key in DAY_MEASURES

    @property
    def alias(self) -> str:
        return f"{self.qual}_duration_days" if self.key == "duration" else (
            f"{self.key}_days" if self.days and not self.key.startswith("days_") else self.key)

    @property
    def name(self) -> str:
        if self.key == "duration":
            return f"duration in days ({self.qual} end - {self.qual} start)"
        return NAMES.get(self.key, self.key.replace("_", " "))

    def sql(self) -> exp.Expression:
        pairs = {"duration": (f"{self.qual}_end", f"{self.qual}_start"), "slip": ("forecast_end", "plan_end"),
                 "start_slip": ("forecast_start", "plan_start"), "arrival_delay": ("actual_start", "plan_start")}
        if self.key in pairs:
            end, start = pairs[self.key]
            return exp.Paren(this=exp.Sub(this=col(end), expression=col(start)))
        if self.key in ("days_overdue", "days_on_site"):  # of overdue / on-site items only (the question says which)
            return exp.Paren(this=exp.Sub(this=lit(self.today) if self.today else exp.CurrentDate(),
                                          expression=col("forecast_end" if self.key == "days_overdue" else "actual_start")))
        if self.key == "remaining_cost":  # summed, the forecast total minus the actual total (no cost: none)
            return exp.Paren(this=exp.Sub(this=exp.Coalesce(this=col("forecast_cost"), expressions=[lit(0)]),
                                          expression=exp.Coalesce(this=col("actual_cost"), expressions=[lit(0)])))
        return col(self.key)


COMPARE = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE, "eq": exp.EQ}
WORDS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
FLIP = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt", "eq": "neq"}


def compare(op: str, left: exp.Expression, right: exp.Expression) -> exp.Expression:
    if op == "neq":
        return exp.NEQ(this=left, expression=right)
    return COMPARE[op](this=left, expression=right)


def aggregate(func: str, expression: exp.Expression | None) -> exp.Expression:
    """count / sum / avg / min / max / median / distinct of an expression (count(*) without one)."""
    if func == "count":
        return exp.Count(this=exp.Star() if expression is None else expression)
    if func == "distinct":
        return exp.Count(this=exp.Distinct(expressions=[expression]))
    if func == "median":
        return exp.WithinGroup(this=exp.PercentileCont(this=exp.Literal.number("0.5")),
                               expression=exp.Order(expressions=[exp.Ordered(this=expression)]))
    cls = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[func]
    return cls(this=expression)


def count_filter(condition: exp.Expression | None) -> exp.Expression:
    count = exp.Count(this=exp.Star())
    return count if condition is None else exp.Filter(this=count, expression=exp.Where(this=condition))


def conjunction(conditions: list[exp.Expression]) -> exp.Expression | None:
    if not conditions:
        return None
    return exp.and_(*[c.copy() for c in conditions]) if len(conditions) > 1 else conditions[0].copy()


def share(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    """100 * numerator / denominator, in percent; NULL when the denominator is 0."""
    return exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=numerator),
                   expression=exp.Nullif(this=denominator, expression=exp.Literal.number(0)))


def bucket(unit: str, column: str) -> exp.Expression:
    """date_trunc(unit, column)::date: the first day of the month / quarter / week; a year is its number."""
    if unit == "year":
        return exp.Extract(this=exp.var("YEAR"), expression=col(column))
    return exp.cast(exp.TimestampTrunc(this=col(column), unit=exp.var(unit.upper())), "date")


@dataclass
class Query:
    """What the grammar decided; `statement` turns it into one SELECT."""

    where: list[exp.Expression] = field(default_factory=list)
    groups: list[tuple[str, exp.Expression, bool]] = field(default_factory=list)  # alias, key, is time bucket
    selects: list[tuple[str, exp.Expression]] = field(default_factory=list)
    having: list[exp.Expression] = field(default_factory=list)
    order: list[tuple[exp.Expression, bool]] = field(default_factory=list)  # expression, descending
    limit: int | None = None
    columns: list[tuple[str, exp.Expression]] = field(default_factory=list)  # extra list columns
    count_groups: bool = False
    partition: list[str] = field(default_factory=list)  # aliases of 'in each X' groups: top N within each
    rank_records: bool = False  # the top N within each group are records, not sub-groups
    peers: list[tuple[str, exp.Expression]] = field(default_factory=list)  # averages over each record's group
    shown_range: list[exp.Expression] = field(default_factory=list)  # periods shown of a change computed over all

    def source(self) -> exp.Expression | str:
        """The view, or the view with each record's group averages beside it ('above their class
        average'): windows over every record, so the question's conditions filter outside them."""
        if not self.peers:
            return VIEW
        inner = exp.select(exp.Star(), *[exp.alias_(w.copy(), a) for a, w in self.peers]).from_(VIEW)
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("peered")))

    def ranked_within(self) -> bool:
        """A top / bottom N within each group ('the 2 biggest classes in each category')."""
        if not (self.partition and self.order and self.limit is not None and not self.count_groups):
            return False
        return self.rank_records or any(a not in self.partition for a, _, _ in self.groups)

    def statement(self) -> str:
        if self.ranked_within():
            return self._ranked_statement()
        select = exp.select()
        if not self.selects and not self.groups:  # a list of records
            names = list(LIST_COLUMNS)
            select = select.select(*names)
            for name in condition_columns(self.where):
                if name not in names:
                    select = select.select(name)
                    names.append(name)
            for alias, expression in self.columns:
                if alias not in names:
                    select = select.select(exp.alias_(expression.copy(), alias))
                    names.append(alias)
        else:
            for alias, key, _ in self.groups:
                select = select.select(exp.alias_(key.copy(), alias))
            for alias, expression in self.selects:
                select = select.select(exp.alias_(expression.copy(), alias))
        select = select.from_(self.source())
        where = conjunction(self.where)
        if where is not None:
            select = select.where(where, copy=False)
        if self.groups:
            select = select.group_by(*[exp.Literal.number(i + 1) for i in range(len(self.groups))])
        having = conjunction(self.having)
        if having is not None:
            select = select.having(having, copy=False)
        if self.count_groups:
            inner = select
            return exp.select(exp.alias_(exp.Count(this=exp.Star()), "groups")).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("matching")))).sql(
                dialect="postgres")
        if self.order:
            select = select.order_by(*[exp.Ordered(this=e.copy(), desc=d, nulls_first=False) for e, d in self.order])
        elif self.groups:
            select = select.order_by(*[exp.Ordered(this=exp.Literal.number(i + 1))
                                       for i in range(len(self.groups))])
        elif not self.selects:
            select = select.order_by(exp.Ordered(this=col("id")))
        if self.limit is not None:
            select = select.limit(self.limit)
        if self.shown_range:  # the change over every period; the periods asked for shown
            names = [a for a, _, _ in self.groups] + [a for a, _ in self.selects]
            outer = exp.select(*names).from_(exp.Subquery(this=select, alias=exp.TableAlias(
                this=exp.to_identifier("periods")))).where(conjunction(self.shown_range))
            return outer.order_by(*[exp.Ordered(this=col(a)) for a, _, _ in self.groups]).sql(dialect="postgres")
        return select.sql(dialect="postgres")

    def _ranked_statement(self) -> str:
        """rank() OVER (PARTITION BY the 'each' groups ORDER BY the measure), kept to the first N: groups or
        records tied at the cut-off are all shown, as no one of them is the answer more than the others."""
        keys = [(a, k) for a, k, _ in self.groups if a in self.partition]
        inner = exp.select(*[exp.alias_(k.copy(), a) for a, k in keys])
        if self.rank_records:
            names = [a for a, _ in keys] + ["id"]
            inner = inner.select("id")
            for alias, expression in self.columns:
                if alias not in names:
                    inner = inner.select(exp.alias_(expression.copy(), alias))
                    names.append(alias)
            then = ["id"]
        else:
            names = [a for a, _, _ in self.groups] + [a for a, _ in self.selects]
            inner = inner.select(*[exp.alias_(k.copy(), a) for a, k, _ in self.groups if a not in self.partition])
            inner = inner.select(*[exp.alias_(e.copy(), a) for a, e in self.selects])
            then = [a for a, _, _ in self.groups if a not in self.partition]
        measure_order = [exp.Ordered(this=e.copy(), desc=d, nulls_first=False) for e, d in self.order]
        window = exp.Window(this=exp.Anonymous(this="rank"), partition_by=[k.copy() for _, k in keys],
                            order=exp.Order(expressions=measure_order), over="OVER")
        inner = inner.select(exp.alias_(window, "rank_in_group")).from_(self.source())
        where = conjunction(self.where)
        if where is not None:
            inner = inner.where(where, copy=False)
        if not self.rank_records:
            inner = inner.group_by(*[k.copy() for _, k, _ in self.groups])
            having = conjunction(self.having)
            if having is not None:
                inner = inner.having(having, copy=False)
        outer = exp.select(*names, "rank_in_group").from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("ranked"))))
        outer = outer.where(exp.LTE(this=col("rank_in_group"), expression=lit(self.limit)))
        outer = outer.order_by(*[exp.Ordered(this=col(a)) for a, _ in keys], exp.Ordered(this=col("rank_in_group")),
                               *[exp.Ordered(this=col(a)) for a in then])
        return outer.sql(dialect="postgres")
