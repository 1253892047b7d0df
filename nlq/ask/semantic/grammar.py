"""The shape of an answer: groups, aggregates, top / bottom N, shares; then every word accounted for.

`read_question` runs the condition readers and the shape readers over the tagged items and
returns a `Query` with notes, or raises `NotUnderstood` quoting the words it could not place.
"""

from __future__ import annotations

import re
from datetime import date

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import (COST, Measure, Query, aggregate, bucket, col, conjunction, count_filter, lit,
                                    share)
from nlq.ask.semantic import business, constructions, differences, narrowed, picked
from nlq.ask.semantic.averages import read_group_distance, read_peer_averages, read_peer_distance
from nlq.ask.semantic.contrasts import MORE, contrast_at, read_contrasts
from nlq.ask.semantic.ratios import read_two_figures
from nlq.ask.semantic.pivot import read_side_by_side
from nlq.ask.semantic.group_counts import read_distinct_counts
from nlq.ask.semantic.group_shares import read_group_shares
from nlq.ask.semantic.shown_columns import read_shown_columns
from nlq.ask.semantic.conditions import SKIP, Reader, whose
from nlq.ask.semantic.lexicon import SOFT, Item, Vocabulary, tag
from store.fields import BY_COLUMN

EXAMPLES = ("how many cranes in Silo 4 vs Silo 5", "total forecast cost per area for rentals ending next quarter",
            "top 5 rentals by slip", "cheapest, dearest and typical purchase price of generators")
DIM_NAMES = {"category": "category", "class": "class", "area": "area", "source": "source", "dor": "dor",
             "manufacturer": "manufacturer", "model": "model"}
FUNC_NAMES = {"sum": "the total", "avg": "the average", "median": "the median", "min": "the minimum",
              "max": "the maximum", "count": "the count"}
EACH_WORDS = {"each", "for each", "in each", "within each", "for every", "by each", "per", "every", "in every",
              "across every", "at every", "within every", "across each", "at each"}
LIST_WORDS = {"list", "show", "which", "what", "find", "display", "give", "name", "get", "all", "every", "everything",
              "who", "who's", "whos", "where", "where's", "wheres"}


_ONE_ASKED = re.compile(r"\b(?:which|what|who)(?: one| single one)? (?:has|is|was|had|gets|got|comes)\b|\bwhich one\b")


def read_question(question: str, vocab: Vocabulary, today: date) -> tuple[Query, list[str]]:
    rephrased = business.rephrase(question)  # 'how's the crane budget looking': the plain question it stands for
    question = rephrased.question
    if (asked := narrowed.split(question)) is not None and (
            both := narrowed.read_narrowed(asked, vocab, today, read_question)) is not None:
        return both[0], rephrased.notes + both[1]  # '..., and how many of those have slipped'
    if (sides := differences.split(question, vocab, today)) is not None and (
            both := differences.read_difference(sides, vocab, today, read_question)) is not None:
        return both[0], rephrased.notes + both[1]  # 'how many more items come off hire next quarter than this quarter'
    if (asked := narrowed.split_figure(question)) is not None and (
            both := narrowed.read_figure_of_them(asked, vocab, today, read_question)) is not None:
        return both[0], rephrased.notes + both[1]  # '... how many are overdue and how much hire is tied up in them'
    if (top := picked.split_of_top(question)) is not None and (
            both := picked.read_of_top(top, vocab, today, read_question)) is not None:
        return both[0], rephrased.notes + both[1]  # 'of the 25 biggest overruns, how many are overhead-paid'
    if (leading := picked.split_leading(question)) is not None and (
            both := picked.read_leading(leading, vocab, today, read_question)) is not None:
        return both[0], rephrased.notes + both[1]  # 'take the area with the most overdue kit - its budget'
    items = tag(question, vocab, today)
    if (parts := picked.split(question, items)) is not None:  # 'in the area with the biggest spend, how many ... on site'
        return picked.read_picked(parts, vocab, today, read_question)
    frames = constructions.before(items)  # shapes the grammar does not hold: declined, never read in part
    reader = Reader(items, today)
    reader.notes += rephrased.notes
    reader.notes += [i.note for i in items if i.note and i.kind != "value"]  # close spellings of words
    query = Query()
    shape = Shape(reader, query, question)
    read_group_distance(reader, query)  # 'how far above or below the average manufacturer'
    read_peer_distance(reader, query)  # 'how far above or below its class average' (before it is read as a condition)
    read_peer_averages(reader, query)  # before the groups: 'their class average' is not 'per class'
    read_distinct_counts(reader)  # nor is 'more than one category' 'per category'
    shape.read_groups()
    read_contrasts(reader, query)  # 'areas with more cranes than generators': two values, two figures per group
    read_two_figures(reader, query)  # 'ratio of rental forecast cost to purchase forecast cost'
    reader.read_dates()
    reader.read_amounts()
    reader.read_absence()
    reader.read_values()
    reader.read_flags()
    reader.overdue_for_days_overdue()
    shape.read_vs()
    read_group_shares(reader, shape.numerator)  # 'areas where more than half the kit on site is overdue'
    for condition in reader.conditions:  # 'areas where the average rate is above 17k': show the average
        if condition.show is not None and condition.show[0] not in [a for a, _ in query.selects]:
            query.selects.append(condition.show)
    query.selects += reader.figures
    shape.read_output()
    query.selects.sort(key=lambda s: "_minus_average_" in s[0])  # a group's distance from the average after its figure
    read_side_by_side(query, reader)
    slip_both_ways(query, reader)
    in_weeks(items, query, reader)
    in_days(items, query, reader)
    read_shown_columns(items, query, reader, ID_WORDS)  # '... - id, actual end and forecast end'
    shown_ids(items, query, reader)
    decline_leftovers(items, reader, question)
    decline_repeats(query, reader)
    numerator = {id(c) for c in shape.numerator}
    query.where = query.where + [c.expression for c in reader.conditions if not c.having and id(c) not in numerator]
    seen: set[str] = set()  # 'demobs per month': the bucket's date and the event both say it is recorded
    query.where = [w for w in query.where if not ((text := w.sql(dialect="postgres")) in seen or seen.add(text))]
    decline_contradictions(query.where, reader)
    scope = conjunction([c.expression for c in reader.conditions if not c.having and id(c) not in numerator])
    for inner in reader.deferred:  # 'the average' is over the same records as the question's
        own = [w for w in query.where if inner not in list(w.find_all(exp.Select))]
        scope = conjunction(own)
        if scope is not None:
            inner.where(scope, copy=False)
    query.having += [c.expression for c in reader.conditions if c.having]
    show_having_measures(query)
    keys = {c.name for _, key, _ in query.groups for c in key.find_all(exp.Column)}
    for condition in query.having:  # a record's own column in a condition on groups: no one value per group
        loose = [c.name for c in condition.find_all(exp.Column) if c.name not in keys
                 and not c.find_ancestor(exp.AggFunc, exp.Filter, exp.Subquery, exp.Window)]
        if loose:
            raise NotUnderstood(f"The offline reader read a condition on groups that uses each record's own "
                                f"{loose[0].replace('_', ' ')}, which a group does not have one of, so it does not "
                                "answer rather than guess. Rephrase, e.g. \"areas whose total forecast cost is "
                                "above their total plan cost\".", words=[], understood=list(reader.notes))
    if query.having and not query.groups:  # a condition on groups with no groups asked for: never a whole-table HAVING
        raise NotUnderstood("The offline reader read a condition on groups but no groups to apply it to, so it does "
                            "not answer rather than guess. Rephrase, e.g. \"which areas have more than 150 items\"; "
                            "\"classes found in more than 10 areas\".", words=[], understood=list(reader.notes))
    # 'quarterly budget by planned start qtr': one bucket said twice is one group
    query.groups = list({alias: (alias, key, bucket) for alias, key, bucket in query.groups}.values())
    constructions.after(query, items, reader.notes, frames)
    if rephrased.position and "sum_cost_variance" in [a for a, _ in query.selects]:
        query.selects.append(business.variance_percent())
    return query, reader.notes


# Event nouns a date superlative reads on the actual date: 'the latest arrival' has happened.
ARRIVAL_NOUNS = ("arrival", "mobilisation", "mobilization", "departure", "demobilisation", "demobilization", "demob")

# Phrasings it reads, by what a declined question was about: the examples follow the question.
EXAMPLES_BY_KIND = {
    "date": "how many rentals end next month", "unit": "total plan cost per quarter of plan start",
    "dim": "total forecast cost per area", "group": "number of cranes per manufacturer",
    "top": "top 5 areas by forecast cost", "super": "the 3 longest rentals",
    "share": "what percentage of cranes are rented", "cmp": "rentals shorter than 90 days",
    "flag": "how many items are on site now", "neg": "how many rentals are not cancelled",
    "rank": "rank the categories by forecast cost", "running": "running total of plan cost by quarter of plan start",
    "change": "month over month change in the number of items starting in 2027",
}


def examples_for(items: list[Item]) -> list[str]:
    """Two or three phrasings it does read, chosen by the kinds of words the question used."""
    chosen: list[str] = []
    for item in items:
        example = EXAMPLES_BY_KIND.get(item.kind)
        if example and example not in chosen:
            chosen.append(example)
    for example in EXAMPLES:
        if len(chosen) >= 3:
            break
        if example not in chosen:
            chosen.append(example)
    return chosen[:3]


def _with_article(column: str) -> str:
    """'an actual end', 'a forecast start': a column's name with its article, for explanations."""
    name = column.replace("_", " ")
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _unwrapped(condition: exp.Expression) -> exp.Expression:
    while isinstance(condition, exp.Paren):
        condition = condition.this
    return condition


def _atoms(condition: exp.Expression) -> list[exp.Expression]:
    """The parts of a condition that must all hold (its top-level ANDs, through parentheses)."""
    condition = _unwrapped(condition)
    if isinstance(condition, exp.And):
        return [a for part in condition.flatten() for a in _atoms(part)]
    return [condition]


def decline_contradictions(where: list[exp.Expression], reader: Reader) -> None:
    """'demobbed items that stayed on site': a column required to be empty and to be filled at once
    finds nothing; the words were read two ways, so the question declines instead of answering 0."""
    atoms = [a for w in where for a in _atoms(w)]
    empty = {a.this.name for a in atoms if isinstance(a, exp.Is) and isinstance(a.this, exp.Column)}
    filled = {a.this.this.name for a in atoms if isinstance(a, exp.Not) and isinstance(a.this, exp.Is)
              and isinstance(a.this.this, exp.Column)}
    both = sorted(empty & filled)
    if both:
        raise NotUnderstood(f"The offline reader read conditions that require {both[0].replace('_', ' ')} to be both "
                            "empty and recorded, which no record meets, so it does not answer rather than guess. "
                            "Rephrase, e.g. \"items that have left site\"; \"items on site now\".",
                            words=[], understood=list(reader.notes))


def _range_on(condition: exp.Expression, column: str) -> tuple[date, date] | None:
    """(low, high) of 'column >= low AND column < high' with literal dates, else None."""
    condition = _unwrapped(condition)
    if not isinstance(condition, exp.And):
        return None
    parts = condition.flatten()
    low = high = None
    for part in parts:
        if not isinstance(part, (exp.GTE, exp.LT)) or not isinstance(part.this, exp.Column) or part.this.name != column:
            return None
        value = part.expression
        if not isinstance(value, exp.Cast) or not value.this.is_string:
            return None
        day = date.fromisoformat(value.this.name)
        low, high = (day, high) if isinstance(part, exp.GTE) else (low, day)
    return (low, high) if low is not None and high is not None else None


def _on_column(condition: exp.Expression) -> str | None:
    """The column of a 'column = value' or 'column IN (values)' condition, else None."""
    condition = _unwrapped(condition)
    if isinstance(condition, (exp.EQ, exp.In)) and isinstance(condition.this, exp.Column):
        return condition.this.name
    return None


# Words that make a measure one figure for all the records, never each record's own.
TOGETHER = ("in total", "total", "altogether", "all together", "combined", "in all", "overall")
# Words that say a rate or a price per group is added up, not averaged.
SUMMED = ("paid", "paid out", "pay out", "paying out", "adding up", "add up", "adds up", "added up", "in total",
          "altogether", "combined")

AGGREGATE_PREFIX = {exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}


def show_having_measures(query: Query) -> None:
    """'categories with over 250 items and an average variance above 5000': each figure a group was
    kept for is shown beside it, so the answer shows why every group is there."""
    if not query.groups or query.count_groups:
        return
    shown = {e.sql() for _, e in query.selects}
    for condition in query.having:
        for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            sides = [part.this, part.expression] if isinstance(part, exp.Binary) else []
            for side in sides:
                if isinstance(side, exp.Count) and isinstance(side.this, exp.Star):
                    alias = "records"
                elif type(side) in AGGREGATE_PREFIX and isinstance(side.this, exp.Column):
                    alias = f"{AGGREGATE_PREFIX[type(side)]}_{side.this.name}"
                else:
                    continue
                if side.sql() in shown or alias in [a for a, _ in query.selects]:
                    continue
                query.selects.append((alias, side.copy()))
                shown.add(side.sql())


def slip_both_ways(query: Query, reader: Reader) -> None:
    """'average slip' is said two ways by planners: over every record (those on time count as 0) or over
    the records that slipped. An average of the slip is shown both ways, each column named, rather
    than one of them picked silently."""
    slip = Measure("slip").sql()
    slipped = exp.GT(this=col("forecast_end"), expression=col("plan_end"))
    if any(w == slipped or w == exp.GT(this=slip.copy(), expression=exp.Literal.number(0))
           for w in [c.expression for c in reader.conditions]):
        return  # only slipped records asked about: the two are the same
    averaged = exp.Avg(this=slip.copy())
    if any(averaged in list(e.find_all(exp.Avg)) for e in [*query.having, *[o for o, _ in query.order],
                                                             *[c.expression for c in reader.conditions if c.having]]):
        # a condition on, or a ranking by, the average slip picks groups one of the two ways: ask which
        raise NotUnderstood("The offline reader reads 'average slip' two ways (over every record, on-time ones "
                            "counting 0, or over the records that slipped only), and a condition or ranking on it "
                            "would pick one silently, so it does not answer rather than guess. Rephrase, e.g. "
                            "\"top 3 classes by average slip of slipped items\"; \"average slip per area\".",
                            words=[], understood=list(reader.notes))
    for alias, expression in list(query.selects):
        if isinstance(expression, exp.Avg) and expression.this == slip:
            query.selects.append((f"{alias}_slipped_only", exp.Filter(this=expression.copy(), expression=exp.Where(
                this=slipped.copy()))))
            reader.notes.append(f"the average slip is shown over every record ({alias}) and over the records that "
                                f"slipped only ({alias}_slipped_only)")


def in_days(items: list[Item], query: Query, reader: Reader) -> None:
    """'... (days)', 'in days': the unit of a length already shown, which is in days."""
    shown = [a for a, _ in query.selects + query.columns if "days" in a.split("_")]
    for i, item in enumerate(items):
        if item.used or item.kind != "unit" or item.value != "day" or item.surface.lower() != "days" or not shown \
                or (i > 0 and items[i - 1].kind == "num"):
            continue
        item.used = True
        if i > 0 and not items[i - 1].used and items[i - 1].surface.lower() == "in":
            items[i - 1].used = True
        reader.notes.append(f"'{item.surface}' read as the unit of {shown[0]}")


def in_weeks(items: list[Item], query: Query, reader: Reader) -> None:
    """'average slip in weeks', 'avg hire length (weeks)': the lengths shown, which are in days, as
    days / 7. A number before 'weeks' is an amount ('slipped by 2 weeks'), which the condition
    readers own; a 'weeks' left with no length shown stays unread (and is declined)."""
    for i, item in enumerate(items):
        if item.used or item.kind != "unit" or item.value != "week" or not item.surface.lower().startswith("week") \
                or (i > 0 and items[i - 1].kind == "num"):
            continue
        lengths = [(shown, n, a) for shown in (query.selects, query.columns)
                   for n, (a, _) in enumerate(shown) if a.endswith("_days")]
        if not lengths:
            return
        for shown, n, alias in lengths:
            shown[n] = (alias[:-len("_days")] + "_weeks",
                        exp.Div(this=exp.Paren(this=shown[n][1]), expression=exp.Literal.number("7.0")))
        item.used = True
        if i > 0 and not items[i - 1].used and items[i - 1].surface.lower() == "in":
            items[i - 1].used = True  # 'in weeks'
        reader.notes.append(f"'{item.surface}' read as the length{'s' if len(lengths) > 1 else ''} in days / 7")
        return


ID_WORDS = {"id", "ids", "record id", "record ids", "item id", "item ids", "ref", "refs"}


def shown_ids(items: list[Item], query: Query, reader: Reader) -> None:
    """'... - ids', 'id and cost': a list of records always shows each record's id; in an answer
    whose rows are groups there is no id to show, so the word stays unread."""
    records = (not query.selects and not query.groups) or query.rank_records
    for item in items:
        if not item.used and item.surface.lower() in ID_WORDS and records:
            item.used = True
            reader.notes.append(f"'{item.surface}' read as the records' ids, shown in the first column")


def decline_leftovers(items: list[Item], reader: Reader, question: str) -> None:
    ambiguous = [i for i in items if i.kind == "ambiguous"]
    if ambiguous:
        item = ambiguous[0]
        raise NotUnderstood(f"'{item.surface}' could be any of {', '.join(item.value)}; name one of them.",
                            words=[item.surface], understood=reader.notes)
    left = [i.surface for i in items if not i.used and i.kind not in SOFT]
    if left:
        understood = ("; ".join(reader.notes)) if reader.notes else "nothing I could use"
        quoted = ", ".join(f"'{w}'" for w in left)
        raise NotUnderstood(
            f"The offline reader did not understand {quoted}, so it does not answer rather than guess. "
            f"It read: {understood}. Rephrase, e.g. " + "; ".join(f"\"{e}\"" for e in examples_for(items)) + ".",
            words=left, understood=list(reader.notes))


def decline_repeats(query: Query, reader: Reader) -> None:
    """The same figure asked twice ('the number that start last quarter and the number that start this
    quarter') means each one has conditions of its own, which one statement here cannot tell apart."""
    seen: dict[str, str] = {}
    for alias, expression in query.selects:
        text = expression.sql(dialect="postgres")
        if text in seen:
            raise NotUnderstood(
                f"The question asks for {alias.replace('_', ' ')} twice, each with its own conditions; the offline "
                "reader does not split conditions between figures, so it does not answer rather than guess. "
                "Ask one question per figure, e.g. \"how many items start last quarter\".",
                words=[alias], understood=list(reader.notes))
        seen[text] = alias


class Shape:
    """Reads what to return: groups, aggregates, ordering, shares."""

    def __init__(self, reader: Reader, query: Query, question: str) -> None:
        self.r = reader
        self.q = query
        self.items = reader.items
        self.question = question
        self.numerator: list = []
        self.by_func: str | None = None  # the aggregate a grouped ranking names ('by average rate')
        self.n_hint: int | None = None
        self.bucket_words: list[int] = []  # 'which 3 areas have the highest ...': the N of a ranking further on
        words = question.lower().split()
        self.listing = bool(words) and (words[0].strip("?,.") in LIST_WORDS or (
            words[0] == "for" and len(words) > 1 and words[1] in ("every", "each") and self.items
            and self.items[0].kind == "stop"))  # 'for every rented crane, its rate' (lexicon._each_record)
        self.asks_what = bool(words) and words[0].strip("?,.") in ("what", "what's", "whats")  # 'what is the cost of ...': a list or a total
        self.subject = self._subject()
        # 'of the categories with ..., which has the highest ...': one row, though the noun is plural
        self.one_asked = bool(_ONE_ASKED.search(question.lower()))
        self.aggregated: list[Measure] = []  # the measures aggregates were read of, in order

    def _rows_for(self, plural: bool) -> int:
        """How many rows a superlative returns when no number is given: 10 for a plural noun, else 1."""
        return 10 if plural and not self.one_asked else 1

    def _subject(self) -> Item | None:
        """The first content item of a 'which ...' / 'show ...' question: what the rows are."""
        for item in self.items:
            if item.kind in ("stop", "verb", "num"):  # 'which 5 rentals ...'
                continue
            return item if item.kind in ("value", "record", "dim", "flag") else None
        return None

    # -- groups -------------------------------------------------------------------------------
    def read_groups(self) -> None:
        r = self.r
        for i, item in enumerate(self.items):
            if item.used or item.kind != "group":
                continue
            j = r.next_content(i, 1, {"stop"})
            if r.kind(j) == "unit" and r.kind(r.next_content(i, -1, {"stop"})) == "num":
                continue  # '10,000 per month' is a monthly amount, read with the amount
            if r.kind(j) == "value" and r.kind(r.next_content(j, 1, {"stop"})) == "dim" \
                    and " ".join(item.surface.lower().split()) in EACH_WORDS:
                j = r.next_content(j, 1, {"stop"})  # 'for each crane class': per class, of the cranes
            said = item  # the group word of this dimension: 'by source within each category'
            while r.kind(j) in ("dim", "unit"):
                if r.kind(j) == "dim":
                    self._group_dim(j)
                    r.use(i)
                    if " ".join(said.surface.lower().split()) in EACH_WORDS:
                        self.q.partition.append(self.items[j].value)
                else:
                    j = self._group_bucket(i, j)
                k = r.next_content(j, 1, {"stop"})
                if r.kind(k) in ("and", "group") and r.kind(k + 1) in ("dim", "unit"):
                    r.use(k)
                    if self.items[k].kind == "group":
                        said = self.items[k]
                    j = r.next_content(k, 1, {"stop"})
                else:
                    break
        for i, item in enumerate(self.items):  # 'monthly', 'quarterly' on their own
            said = item.surface.lower().replace("-", " ")  # 'year-on-year' is 'year on year'
            if not item.used and item.kind == "unit" and (
                    said.endswith("ly") or " over " in said or " on " in said or said in ("mom", "qoq", "yoy")
                    or r.kind(i + 1) == "moving" or self._period_picked(i)) and \
                    r.kind(r.next_content(i, -1)) != "num":  # ('3-month moving avg of starts': per month)
                same = [a for a, _, t in self.q.groups if t and a.startswith(f"{item.value}_of_")]
                if same and " " in said:  # 'quarter over quarter change ..., by start quarter': that bucket
                    r.use(i)
                    r.notes.append(f"'{item.surface}' read as the {item.value}s of {same[0]}")
                    continue
                self._group_bucket(None, i)
        for i, item in enumerate(self.items):  # 'demobs by category - how many in each?': the groups already read
            if not item.used and item.kind == "group" and self.q.groups and \
                    " ".join(item.surface.lower().split()) in ("in each", "for each", "each", "in every", "for every") \
                    and r.next_content(i, 1, {"stop"}) >= len(self.items):
                r.use(i)
                r.notes.append(f"'{item.surface}' read as each of the groups already named")
        self._flag_or_not()  # (after the groups said with 'per' / 'by', in the order said)
        # 'how many areas have more than 50 items': count the groups that pass
        for i, item in enumerate(self.items):
            if item.used or item.kind != "agg" or item.value != "count":
                continue
            k = r.next_content(i, 1, {"stop"})
            if r.kind(k) == "dim" and any(
                    (x.kind == "cmp" and r.kind(r.next_content(n, 1, {"stop"})) == "num"
                     and r.kind(r.next_content(r.next_content(n, 1, {"stop"}), 1, {"stop"})) in ("record", "value"))
                    or (x.kind == "neg" and x.surface.lower() in ("no", "without", "zero")
                        and r.kind(r.next_content(n, 1, {"stop"})) == "value")
                    or contrast_at(r, n)  # 'how many areas have more cranes than generators'
                    # 'how many classes have an average rate above the overall average': a figure's condition
                    or (x.kind == "cmp" and any(self.items[m].kind in ("agg", "measure", "qual") for m in range(k + 1, n)))
                    or ((x.kind == "cmp" or x.surface.lower() in MORE)
                        and any(y.surface.lower() == "than" for y in self.items[n + 1:n + 4]))
                    for n, x in enumerate(self.items) if n > k and not x.used):
                r.use(i)
                self._group_dim(k)
                self.q.count_groups = True
                r.notes.append(f"'{item.surface}' read as the number of {self.items[k].value} groups that qualify")
        # 'which areas have ...', 'top 5 areas', 'the area with the most cranes': the rows are groups
        for index, item in enumerate(self.items):
            if item.used or item.kind != "dim":
                continue
            before = r.next_content(index, -1, {"stop", "verb"})
            if not (r.kind(before) == "agg" and self.items[before].value in ("count", "distinct")):
                self._group_dim(index)
        r.grouped = bool(self.q.groups)

    def _period_picked(self, i: int) -> bool:
        """'which month of 2026 had the most starts', 'the busiest quarter for demobs': the periods are the
        rows, and a superlative picks one."""
        if self.items[i].value not in ("month", "quarter", "year", "week"):
            return False
        before = i - 1
        while before >= 0 and self.items[before].kind == "stop" and self.items[before].surface.lower() in ("the", "a"):
            before -= 1
        said = self.items[before] if before >= 0 else None
        picked = said is not None and (said.surface.lower() in ("which", "what") or said.kind == "super")
        return picked and any(x.kind in ("super", "top") for x in self.items)

    def _group_dim(self, j: int) -> None:
        item = self.items[j]
        column = item.value
        self.r.use(j)
        if column not in [g[0] for g in self.q.groups]:
            self.q.groups.append((column, col(column), False))
            self.r.notes.append(f"'{item.surface}' read as one row per {column}")

    def _group_bucket(self, i: int | None, j: int) -> int:
        r = self.r
        unit = self.items[j].value
        if unit not in ("week", "month", "quarter", "year"):
            return j
        used = [j] + ([i] if i is not None else [])
        if i is None:  # 'quarterly forecast spend by forecast start': the bucket's date comes after 'by'
            for b in range(j + 1, len(self.items)):
                if self.items[b].used or self.items[b].kind != "group" or self.items[b].surface.lower() != "by":
                    continue
                c, part, qual, taken = r.next_content(b, 1, {"stop"}), None, None, [b]
                while r.kind(c) in ("qual", "part") or (r.kind(c) == "unit" and self.items[c].value == unit):
                    if r.kind(c) == "qual":
                        qual = self.items[c].value
                    elif r.kind(c) == "part":  # ('by start quarter': the same unit said again)
                        part = self.items[c].value
                    taken.append(c)
                    c = r.next_content(c, 1, {"stop"})
                if part is not None:
                    which, implied = part
                    column = f"{qual or whose(implied)}_{which}"
                    r.use(*used, *taken)
                    alias = f"{unit}_of_{column}"
                    self.q.groups.append((alias, bucket(unit, column), True))
                    r.bucketed = r.bucketed or column
                    self.q.where.append(exp.Not(this=exp.Is(this=col(column), expression=exp.Null())))
                    r.notes.append(f"'{self.items[j].surface} ... {' '.join(self.items[t].surface for t in taken)}' "
                                   f"read as one row per {unit} of {column.replace('_', ' ')} (records without "
                                   f"{_with_article(column)} left out)")
                    return j
                break
        k = r.next_content(j, 1, {"stop"})
        part = qual = None
        if r.kind(k) in ("prep",) or (self.items[k].kind == "stop" if k < len(self.items) else False):
            k = r.next_content(k, 1, {"stop"})
        if r.kind(k) == "record" and r.kind(r.next_content(k, 1, {"stop", "verb"})) in ("qual", "part"):
            used.append(k)  # 'by the year things start': the records' own date
            k = r.next_content(k, 1, {"stop", "verb"})
        if r.kind(k) == "verb" and r.kind(r.next_content(k, 1, {"stop"})) in ("qual", "part"):
            k = r.next_content(k, 1, {"stop"})  # 'the year they are planned to start'
            used.append(r.next_content(j, 1, {"stop"}))
        m = k
        while r.kind(m) in ("qual", "part") or (0 <= m < len(self.items) and self.items[m].surface.lower() == "of"
                                                and not self.items[m].used) or (
                r.kind(m) == "prep" and qual is not None and part is None
                and r.kind(r.next_content(m, 1, {"stop"})) == "part"):  # 'planned to start'
            if r.kind(m) == "qual":
                qual = self.items[m].value
            elif r.kind(m) == "part":
                part = self.items[m].value
            used.append(m)
            m = r.next_content(m, 1, {"stop"})
        if part is None and qual is None and i is not None:  # 'rentals ending per month': the date just named
            back = r.next_content(i, -1, {"stop", "record", "value", "verb"})
            while 0 <= back < len(self.items) and self.items[back].kind in ("part", "qual") and not self.items[back].used:
                if self.items[back].kind == "part" and part is None:
                    part = self.items[back].value
                elif self.items[back].kind == "qual" and qual is None:
                    qual = self.items[back].value
                else:
                    break
                self.bucket_words.append(back)  # used once the dates had their turn ('ending per month in 2027')
                back -= 1
        events = {(self.items[n - 1].value if n > 0 and self.items[n - 1].kind == "qual" else None, x.value)
                  for n, x in enumerate(self.items) if x.kind == "part" and not x.used}
        if part is None and qual is None and len(events) == 1:
            # 'monthly count of arrivals', 'quarterly count of items going off hire next year', 'planned
            # starts per month': the bucket is the date of the one event the question names (with the
            # qualifier said before it), left for its own conditions too
            used = [u for u in used if u < k]
            said, (which, implied) = next(iter(events))
            column, how = f"{said or whose(implied)}_{which}", " (the date of the event named)"
            if said is not None:  # 'planned starts': the words name the column, so they are read here
                for n, x in enumerate(self.items):
                    if x.kind == "part" and not x.used and n > 0 and self.items[n - 1].kind == "qual":
                        self.bucket_words += [n - 1, n]
            else:  # 'quarter by quarter: how many rentals start': the event is the bucket's date, if nothing else reads it
                self.bucket_words += [n for n, x in enumerate(self.items) if x.kind == "part" and not x.used
                                      and x.value == (which, implied)]
        elif part is None and qual is None:
            used = [u for u in used if u < k]
            measure = next((x.value for x in self.items if x.kind == "measure" and not x.used), None)
            q = {"plan_cost": "plan", "actual_cost": "actual"}.get(measure, "forecast")
            column, how = f"{q}_start", f" (no date named: {q} start)"
        else:
            which, implied = part or ("start", None)
            if qual is None and implied is None:  # 'demobilised kit by demob month': the demob that happened
                implied = next((x.value[1] for x in self.items if x.kind == "part" and x.value[0] == which
                                and x.value[1] is not None), None)
            column, how = f"{qual or whose(implied)}_{which}", ""
        r.use(*used)
        alias = f"{unit}_of_{column}"
        self.q.groups.append((alias, bucket(unit, column), True))
        r.bucketed = r.bucketed or column
        self.q.where.append(exp.Not(this=exp.Is(this=col(column), expression=exp.Null())))
        r.notes.append(f"'{' '.join(self.items[u].surface for u in sorted(used))}' read as one row per {unit} "
                       f"of {column.replace('_', ' ')}{how} (records without {_with_article(column)} left out)")
        return m if m != k else j

    # -- compared values ----------------------------------------------------------------------
    def read_vs(self) -> None:
        for column, values in self.r.vs:
            if column not in [g[0] for g in self.q.groups]:
                self.q.groups.append((column, col(column), False))
        self.r.grouped = bool(self.q.groups)

    # -- aggregates, ordering, shares ---------------------------------------------------------
    def read_output(self) -> None:
        r = self.r
        r.use(*self.bucket_words)
        change = self._change_kind()
        if change is None and self._read_share():
            return
        self._read_rank()
        self._read_top()
        self._read_aggregates()
        leftover_measures = [i for i, x in enumerate(self.items) if not x.used and x.kind == "measure"]
        for i in leftover_measures:
            self._plain_measure(i)
        if not self.q.selects and self.q.groups and not self.q.count_groups:
            self.q.selects.append(("records", exp.Count(this=exp.Star())))
        self._read_windows(change)
        for i, x in enumerate(self.items):
            if x.used:
                continue
            if x.kind == "combo" and len(self.q.groups) >= 2:  # 'every category / area combination'
                r.use(i)
            elif x.kind == "unit" and x.value == "day" and any(
                    a.endswith("_days") for a, _ in self.q.selects + self.q.columns):
                r.use(i)  # 'show the days': the length in days already shown
                r.notes.append(f"'{x.surface}' read as the days already shown")
            if self.q.having or self.q.order:
                pass
        if not self.q.selects and not self.q.groups and not r.conditions and not self.q.order:
            if not any(x.surface.lower() in ("all", "every", "everything", "list") or x.kind == "record"
                       for x in self.items):
                if not any(not x.used and x.kind not in SOFT for x in self.items):
                    raise NotUnderstood("The offline reader found nothing to answer in that question. Ask e.g. "
                                        + "; ".join(f"\"{e}\"" for e in EXAMPLES[:3]) + ".", words=[],
                                        understood=[])

    def _measure_after(self, i: int, allow_values: bool = True) -> tuple[Measure | None, list[int]]:
        """The measure an aggregate applies to: the next measure (with its qualifier), skipping values."""
        r = self.r
        j = r.next_content(i, 1, SKIP | {"stop"} | ({"value"} if allow_values else set()) | {"prep"})
        used, qual, key = [], None, None
        while (item := r.live(j)) is not None and item.kind in ("qual", "measure", "part") and key is None:
            if item.kind == "qual":
                qual = item.value
            elif item.kind == "measure":
                key = item.value
            else:
                key = ("date", item.value)
            used.append(j)
            j = r.next_content(j, 1, {"stop"})
        if key is None:
            if qual is not None:
                return Measure(COST[qual]), used
            return None, []
        if isinstance(key, tuple):
            which, implied = key[1]
            return Measure(f"{qual or whose(implied)}_{which}"), used
        return self.r._measure(key, qual), used

    def _read_aggregates(self) -> None:
        r = self.r
        i = 0
        while i < len(self.items):
            item = r.live(i)
            if item is None or item.kind not in ("agg", "super"):
                i += 1
                continue
            run = [i]
            j = i
            while True:
                k = r.next_content(j, 1, {"stop"})
                if r.kind(k) in ("and",) and r.kind(r.next_content(k, 1, {"stop"})) in ("agg", "super"):
                    run += [k, r.next_content(k, 1, {"stop"})]
                    j = run[-1]
                elif r.kind(k) in ("agg", "super") and k == j + 1:
                    run.append(k)
                    j = k
                else:
                    break
            funcs = [self.items[x] for x in run if self.items[x].kind in ("agg", "super")]
            if any(f.value == "distinct" for f in funcs):
                if self._distinct(run, j):
                    i = j + 1
                    continue
            if len(funcs) == 1 and funcs[0].value == "count":
                self._count(run, j)
                i = j + 1
                continue
            several = self._qual_list(j)
            if several is not None and all(f.kind == "agg" and f.value in ("sum", "avg", "median", "sum_default")
                                           for f in funcs):
                measures, used = several  # 'total plan, forecast and actual cost': one figure per qualifier
                r.use(*run, *used)
                for f in funcs:
                    func = "sum" if f.value == "sum_default" else f.value
                    for m in measures:
                        self.q.selects.append((f"{func}_{m.alias}", aggregate(func, m.sql())))
                    r.notes.append(f"'{f.surface}' as {FUNC_NAMES.get(func, func)} of each of "
                                   f"{', '.join(m.name for m in measures)}")
                i = j + 1
                continue
            noun = r.next_content(j, 1, {"stop", "flag", "value"})
            if len(funcs) == 1 and funcs[0].kind == "super" and funcs[0].value[1] in (None, "count") \
                    and self.q.groups and r.kind(noun) == "record" and not self.items[noun].used:
                r.use(noun)  # 'the 2 classes with the most kit overdue': a count of the records, whatever follows
                self._top_by_count(run, funcs[0])
                i = j + 1
                continue
            measure, m_used = self._measure_after(j)
            implied_by = [f.value[1] for f in funcs if f.kind == "super" and f.value[1] in ("duration", "date")]
            if measure is not None and implied_by and all(self.items[x].kind == "qual" for x in m_used):
                qual = self.items[m_used[0]].value  # 'the longest on the current forecast': whose duration
                measure = Measure("duration", qual) if implied_by[0] == "duration" else Measure(f"{qual}_start")
            noun = self._next_raw(j)
            while noun < len(self.items) and self.items[noun].kind == "verb":
                noun = self._next_raw(noun)  # 'the longest-running rental'
            dated = len(funcs) == 1 and funcs[0].kind == "super" and funcs[0].value[1] == "date"
            event = None  # 'the latest arrival in each area': the arrival is a record's, so the rows are records
            if dated and m_used and all(self.items[x].kind == "part" for x in m_used) and not (
                    noun < len(self.items) and self.items[noun].kind == "record" and noun < min(m_used)
                    and self.q.partition):
                noun = self._next_raw(max(m_used))  # 'the earliest starting item': the item, by its start
                if any(self.items[x].surface.lower() in ARRIVAL_NOUNS for x in m_used):
                    # 'the latest arrival': an arrival that happened, on its actual date
                    measure = Measure(f"actual_{self.items[m_used[0]].value[0]}")
                    event = m_used[0]
                if noun >= len(self.items) or self.items[noun].kind not in ("value", "record"):
                    asked = [x for x in range(1, len(self.items)) if self.items[x].kind == "record"
                             and self.items[x - 1].surface.lower() in ("which", "what")]
                    noun = asked[0] if asked else noun  # 'latest arrival in each area, which item and when'
                    after = self._next_raw(event) if event is not None else len(self.items)
                    if not asked and event is not None and not (
                            after < len(self.items) and self.items[after].surface.lower() in ("date", "dates", "day")):
                        noun = event  # ('the latest arrival date per area' is a date per area)
            if dated and self.q.partition and not (noun < len(self.items) and self.items[noun].kind in ("value", "record")):
                back = i - 1  # 'the 3 rentals finishing last in each category': the records said before
                while back >= 0 and self.items[back].kind in ("stop", "num"):
                    back -= 1
                if back >= 0 and self.items[back].kind in ("value", "record"):
                    noun = back
            if len(funcs) == 1 and funcs[0].kind == "super" and funcs[0].value[1] in ("cost", "duration", "date") \
                    and noun < len(self.items) and (self.items[noun].kind in ("value", "record") or noun == event) \
                    and (measure is not None or funcs[0].value[1] == "date"):
                # 'the most expensive item (forecast cost) in each area': records ranked by that measure
                if measure is None:
                    measure, m_used = Measure("forecast_start"), []
                r.use(*run, *m_used)
                plural = self.items[noun].plural
                if self.items[noun].kind == "value" and not self.items[noun].used:
                    r.use(*run, *m_used)  # the value is still read as a condition, by read_values (already ran)
                self._order(measure, funcs[0].value[0] == "max", self._rows_for(plural),
                            f"'{funcs[0].surface}' {measure.name}", records=True)
                i = j + 1
                continue
            if measure is None:  # 'rate on average', 'how many days on avg': the measure before
                k = r.next_content(i, -1, SKIP | {"stop", "prep"})
                if r.kind(k) == "measure":
                    measure = r._measure(self.items[k].value, None)
                    m_used = [k]
            if measure is None and len(funcs) == 1 and funcs[0].kind == "agg" and funcs[0].value in ("sum", "avg", "median"):
                shown = [a for a, _ in self.q.selects if a.startswith(funcs[0].value + "_")]
                if shown and self._refers_back(j):  # 'top 5 areas by average rate, with the average': the one already shown
                    r.use(*run)
                    r.notes.append(f"'{funcs[0].surface}' read as the {shown[0]} already shown")
                    i = j + 1
                    continue
            if measure is None and len(funcs) == 1 and funcs[0].value == "sum_default" and self.aggregated \
                    and f"sum_{self.aggregated[-1].alias}" in [a for a, _ in self.q.selects]:
                r.use(*run)  # 'which supplier have we spent the most with, and how much': the total shown
                r.notes.append(f"'{funcs[0].surface}' read as the total {self.aggregated[-1].name} already shown")
                i = j + 1
                continue
            if measure is None and self.aggregated and len({m.alias for m in self.aggregated}) == 1 \
                    and funcs[0].kind == "agg" and funcs[0].value in ("avg", "median", "sum"):
                measure = self.aggregated[0]  # 'smallest and largest purchase price, plus the average'
                r.notes.append(f"'{funcs[0].surface}' with no measure named read as of the {measure.name} said before")
            if measure is None:
                implied = [f.value[1] for f in funcs if f.kind == "super" and f.value[1]]
                other = any(x.kind == "measure" and x.value not in ("cost", "forecast_cost") for x in self.items)
                if funcs[0].value in ("avg", "median") and other:
                    i = j + 1  # 'the average' in a question about a rate: not silently the forecast cost
                    continue
                if funcs[0].value == "sum_default" or (funcs[0].value in ("sum", "avg", "median") and not implied):
                    measure = Measure("forecast_cost")
                    r.notes.append(f"'{funcs[0].surface}' with no measure named read as of forecast cost")
                elif implied and implied[0] in ("cost", "duration", "days_on_site", "days_overdue"):
                    measure = {"cost": Measure("forecast_cost"), "duration": Measure("duration")}.get(
                        implied[0]) or Measure(implied[0], today=r.today)
                    after = j + 1
                    while after < len(self.items) and self.items[after].kind in ("stop", "verb"):
                        after += 1  # 'the longest-running rental'
                    nxt = self.items[after] if after < len(self.items) else None
                    asked = next((x for n, x in enumerate(self.items[1:], 1) if x.kind == "record"
                                  and self.items[n - 1].surface.lower() in ("which", "what")), None)
                    if nxt is None or nxt.kind not in ("value", "record"):
                        nxt = asked if self.subject is None else nxt  # 'in every area, which item has ... the longest'
                    if len(funcs) == 1 and (nxt is not None and nxt.kind in ("value", "record") or (
                            self.subject is not None and self.subject.kind in ("value", "record"))):
                        r.use(*run)  # 'the cheapest crane': a record, not an amount
                        plural = (nxt.plural if nxt is not None and nxt.kind in ("value", "record")
                                  else self.subject.plural)
                        self._order(measure, funcs[0].value[0] == "max", self._rows_for(plural),
                                    f"'{funcs[0].surface}'", records=True)
                        i = j + 1
                        continue
                elif implied and implied[0] == "count" or (funcs[0].kind == "super" and self.q.groups
                                                           and funcs[0].value[1] in (None, "count")):
                    # ('the latest' per group names a date, not a number of records: left unread)
                    self._top_by_count(run, funcs[0])
                    i = j + 1
                    continue
                else:
                    i = j + 1
                    continue
            most = len(funcs) == 1 and funcs[0].kind == "super" and funcs[0].surface.lower() in ("most", "the most") \
                and self.q.groups and not measure.days and measure.key not in ("monthly_rate", "purchase_price") \
                and not measure.key.endswith(("_start", "_end"))  # (a total of dates is no figure)
            if most or (len(funcs) == 2 and funcs[0].kind == "super" and funcs[1].kind == "agg" and self.q.groups and
                        funcs[1].value in ("sum", "avg", "median", "count")):
                # 'the highest average rate' per group: rank the groups by it; 'which supplier have we spent
                # the most with': by the total
                r.use(*run, *m_used)
                self.aggregated.append(measure)
                func = "sum" if most else funcs[1].value
                expression = aggregate(func, measure.sql())
                self.q.selects.append((f"{func}_{measure.alias}", expression))
                self.q.order.append((expression.copy(), funcs[0].value[0] == "max"))
                subject = self.subject
                self.q.limit = self._rows_for(subject is not None and subject.plural)
                if self.n_hint is not None:
                    self.q.limit, self.n_hint = self.n_hint, None
                said = " ".join(f.surface for f in funcs)
                r.notes.append(f"'{said}' {measure.name}: the {self.q.limit} "
                               f"group(s) with the {'highest' if funcs[0].value[0] == 'max' else 'lowest'} {func}")
                i = j + 1
                continue
            if self._super_orders(funcs, run, measure, m_used):
                i = j + 1
                continue
            r.use(*run, *m_used)
            self.aggregated.append(measure)
            names = []
            for f in funcs:
                if f.kind == "agg" and f.value == "count" and len(funcs) > 1:
                    # 'count, lowest and highest rate': the count is of the items, not of rates filled in
                    self.q.selects.append(("records", exp.Count(this=exp.Star())))
                    names.append(f"'{f.surface}' as the number of records")
                    continue
                func = {"sum_default": "sum", "distinct": "count"}.get(f.value, f.value) if f.kind == "agg" else f.value[0]
                expression = aggregate(func, measure.sql())
                self.q.selects.append((f"{func}_{measure.alias}", expression))
                names.append(f"'{f.surface}' as {FUNC_NAMES.get(func, func)}")
            r.notes.append(f"{', '.join(names)} of {measure.name}")
            i = j + 1

    def _super_orders(self, funcs, run, measure: Measure, m_used: list[int]) -> bool:
        """'which crane has the highest rate': a superlative over rows, not an aggregate."""
        if len(funcs) != 1 or funcs[0].kind != "super":
            return False
        subject = self.subject
        if subject is not None and subject.kind == "record" and not self.q.groups:
            pass  # 'the items with the biggest variance': records
        elif self.n_hint is not None and subject is not None and subject.kind in ("value", "record") and \
                subject.plural and not self.q.groups:
            pass  # 'the 5 rentals with the longest slip': the N records, ranked
        elif self.asks_what and subject is None and not self.q.groups and funcs[0].value[1] == "cost":
            pass  # "what's costing us the most a month", "what's the priciest": the record, with its figure
        elif self.q.groups and self.n_hint is not None and funcs[0].value[1] is None:
            pass  # 'the 3 makes we have spent the most on': the N groups, ranked by the measure
        elif (noun := self._noun_before(run[0])) is not None and self.q.partition and \
                all(a in self.q.partition for a, _, _ in self.q.groups):
            subject = noun  # 'in each area, the rental with the highest rate': that record of each area
        elif not (self.listing and subject is not None and subject.kind in ("value", "record", "dim")):
            if not self.q.groups or not self.listing:
                return False
        self.r.use(*run, *m_used)
        desc = funcs[0].value[0] == "max"
        n = self._rows_for(subject is not None and subject.plural)
        self._order(measure, desc, n, f"'{funcs[0].surface}' {measure.name}",
                    records=subject is not None and subject.kind in ("record", "value"))
        return True

    def _noun_before(self, i: int) -> Item | None:
        """'the rental with the highest rate', 'the item that's been overdue the longest': the record
        noun a superlative says of, just before it."""
        j = i - 1
        while j >= 0 and (self.items[j].kind in ("stop", "verb", "prep") or self.items[j].kind == "flag"
                          and self.items[j].used and j > 0 and self.items[j - 1].kind in ("stop", "verb")):
            j -= 1
        if j >= 0 and self.items[j].kind in ("record", "value") and not self.items[j].plural:
            return self.items[j]
        return None

    def _order(self, measure: Measure | None, desc: bool, n: int, words: str, records: bool = False) -> None:
        if self.n_hint is not None:
            n, self.n_hint = self.n_hint, None
        if records and self.q.partition and all(a in self.q.partition for a, _, _ in self.q.groups) \
                and measure is not None:
            self.q.rank_records = True
            self.q.columns.append((measure.alias, measure.sql()))
            self.q.order.append((measure.sql(), desc))
            self.q.limit = n
            self.r.notes.append(f"{words} read as the {'top' if desc else 'bottom'} {n} record(s) by {measure.name} "
                                f"within each {' and '.join(self.q.partition)}")
            return
        if self.q.groups:
            if measure is None:
                expression, alias, name = exp.Count(this=exp.Star()), "records", "record count"
            else:
                expression, alias = exp.Sum(this=measure.sql()), f"sum_{measure.alias}"
                name = f"total {measure.name}"
                if self.by_func in ("avg", "median") or (self.by_func is None and (
                        measure.days or measure.key in ("monthly_rate", "purchase_price"))):
                    expression, alias, name = exp.Avg(this=measure.sql()), f"avg_{measure.alias}", f"average {measure.name}"
            if alias not in [a for a, _ in self.q.selects]:
                self.q.selects.append((alias, expression))
            self.q.order.append((expression.copy(), desc))
        else:
            name = measure.name
            self.q.columns.append((measure.alias, measure.sql()))
            self.q.order.append((measure.sql(), desc))
        self.q.limit = n
        within = [a for a, _, _ in self.q.groups if a not in self.q.partition]
        if self.q.partition and within and self.q.groups:
            self.r.notes.append(f"{words} read as the {'top' if desc else 'bottom'} {n} {' and '.join(within)} by "
                                f"{name} within each {' and '.join(self.q.partition)}")
        else:
            self.r.notes.append(f"{words} read as the {'top' if desc else 'bottom'} {n} by {name}")

    def _top_by_count(self, run, func) -> None:
        if not self.q.groups:
            return  # 'the busiest month' with no month grouped: left unread, so the question declines
        self.r.use(*run)
        desc = func.value[0] == "max"
        n = 1
        self._order(None, desc, n, f"'{func.surface}'")

    def _read_top(self) -> None:
        r = self.r
        for i, item in enumerate(self.items):
            if item.used:
                continue
            if item.kind == "top":
                j = r.next_content(i, 1, {"stop"})
                n, used = 10, [i]
                if r.kind(j) == "num" and _count_number(self.items[j]):
                    n = int(self.items[j].value.value)
                    used.append(j)
                else:  # 'top manufacturer by spend in each category': one, as the noun says
                    k = i + 1
                    while k < len(self.items) and self.items[k].kind == "stop":
                        k += 1
                    if k < len(self.items) and self.items[k].kind in ("dim", "value") and not self.items[k].plural:
                        n = 1
                desc = item.value == "desc"
                self._ordering(used, n, desc, explicit=len(used) > 1)
            elif item.kind == "num" and r.kind(self._next_raw(i)) == "super" and _count_number(item):
                self._ordering([i], int(item.value.value), None, explicit=True)
            elif item.kind == "super" and r.kind(r.next_content(i, 1, {"stop"})) == "num" and \
                    _count_number(self.items[r.next_content(i, 1, {"stop"})]):
                k = r.next_content(i, 1, {"stop"})  # 'the biggest 5 overruns', 'lowest 3 classes by rate'
                self._ordering([k], int(self.items[k].value.value), None, explicit=True, sup_at=i)
        for i, item in enumerate(self.items):  # 'which 3 areas have the highest ...': N of the ranking
            if item.used or item.kind != "num" or not _count_number(item):
                continue
            noun = i + 1
            while noun < len(self.items) and self.items[noun].kind == "stop":
                noun += 1
            later = [x for x in range(noun + 1, len(self.items)) if r.kind(x) == "super"]
            if noun < len(self.items) and self.items[noun].kind in ("dim", "record", "value") and \
                    self.items[noun].plural and later:
                before = [x for x in range(i) if self.items[x].kind not in ("stop",) or
                          self.items[x].surface.lower() == "of"]
                if before and self.items[before[-1]].surface.lower() == "of" and any(
                        self.items[x].kind in ("agg", "measure") for x in before):
                    raise NotUnderstood(
                        f"'{self._words_from(before[-1], noun)}' asks for a figure over a ranked set of groups, "
                        "which the offline reader does not compute; ask for the ranking itself, e.g. "
                        f"\"top {int(item.value.value)} {self.items[noun].surface} by record count\".",
                        words=[self._words_from(before[-1], noun)], understood=list(r.notes))
                r.use(i)
                self.n_hint = int(item.value.value)

    def _change_kind(self) -> str | None:
        """'change' / 'growth' over a time bucket: 'abs', or 'pct' when it is asked in percent."""
        changes = [x for x in self.items if not x.used and (x.kind == "change" or (
            x.kind == "edit" and x.surface.lower() in ("change", "increase")))]
        if not changes or not any(t for _, _, t in self.q.groups):
            return None
        shares = [x for x in self.items if not x.used and x.kind == "share"]
        kind = "pct" if any(x.value == "pct" for x in changes if x.kind == "change") or shares else "abs"
        self.r.use(*[self.items.index(x) for x in changes + shares])
        return kind

    def _read_windows(self, change: str | None) -> None:
        """Rank numbers, running totals and the change from the previous period: window functions over
        the groups the question named (or over records for a rank)."""
        r = self.r
        buckets = [k for _, k, t in self.q.groups if t]
        others = [k for _, k, t in self.q.groups if not t]
        value = next(((a, e) for a, e in self.q.selects if a not in ("share_pct",)), None)
        if change is not None:
            if len(buckets) != 1 or value is None:
                raise NotUnderstood("A change from the previous period needs one time bucket and one figure per "
                                    "period, e.g. \"month over month change in the number of items starting in 2027\".",
                                    words=["change"], understood=list(r.notes))
            order = exp.Order(expressions=[exp.Ordered(this=buckets[0].copy())])
            lag = exp.Window(this=exp.Anonymous(this="lag", expressions=[value[1].copy()]),
                             partition_by=[k.copy() for k in others] or None, order=order, over="OVER")
            diff = exp.Sub(this=value[1].copy(), expression=lag)
            prev = [i for i, x in enumerate(self.items) if not x.used and x.kind == "prev"]
            r.use(*prev)
            if change == "pct":
                self.q.selects.append((f"change_pct_{value[0]}", share(exp.Paren(this=diff), lag.copy())))
                r.notes.append(f"the change of {value[0]} from the previous period, in percent of the previous one")
            else:
                self.q.selects.append((f"change_{value[0]}", diff))
                r.notes.append(f"the change of {value[0]} from the previous period (lag over the periods)")
            self._look_back_before_range(value[0], change == "pct")
        moving = [i for i, x in enumerate(self.items) if not x.used and x.kind == "moving"]
        if moving and len(buckets) == 1 and value is not None:
            periods, unit = self.items[moving[0]].value
            alias, key = next((a, k) for a, k, t in self.q.groups if t)
            if not alias.startswith(f"{unit}_of_"):
                return  # a moving average over other periods than the rows: left for the leftover check

            def average(partition: list[exp.Expression]) -> exp.Expression:
                return exp.Window(this=exp.Avg(this=value[1].copy()), partition_by=partition or None,
                                  order=exp.Order(expressions=[exp.Ordered(this=buckets[0].copy())]),
                                  spec=exp.WindowSpec(kind="ROWS", start=lit(periods - 1), start_side="PRECEDING",
                                                      end="CURRENT ROW"), over="OVER")
            self.q.selects.append((f"moving_avg_{value[0]}", average([k.copy() for k in others])))
            r.use(*moving)
            r.notes.append(f"'{self.items[moving[0]].surface}' read as the average of {value[0]} over each {unit} "
                           f"and the {periods - 1} before it")
            self._range_both_ways(f"moving_avg_{value[0]}", average, "moving average")
        runs = [i for i, x in enumerate(self.items) if not x.used and x.kind == "running"]
        if runs:
            if len(buckets) != 1 or value is None:
                return  # left for the leftover check
            order = exp.Order(expressions=[exp.Ordered(this=buckets[0].copy())])
            self.q.selects.append((f"running_{value[0]}", exp.Window(
                this=exp.Sum(this=value[1].copy()), partition_by=[k.copy() for k in others] or None,
                order=order, over="OVER")))
            r.use(*runs)
            r.notes.append(f"'{self.items[runs[0]].surface}' read as the running total of {value[0]} over the periods")

    def _look_back_before_range(self, value: str, pct: bool) -> None:
        """'how did each month's count change on the month before, through 2026': is the first month of
        the range compared with the month before it (outside the range) or left without a change?
        Planners say both, so both are shown (see _range_both_ways)."""
        figure = next(e for a, e in self.q.selects if a == value)
        key = next(k for _, k, t in self.q.groups if t)

        def change(partition: list[exp.Expression]) -> exp.Expression:
            lag = exp.Window(this=exp.Anonymous(this="lag", expressions=[figure.copy()]), partition_by=partition,
                             order=exp.Order(expressions=[exp.Ordered(this=key.copy())]), over="OVER")
            diff = exp.Sub(this=figure.copy(), expression=lag)
            return share(exp.Paren(this=diff), lag.copy()) if pct else diff
        self._range_both_ways(f"change_{'pct_' if pct else ''}{value}", change, "change")

    def _range_both_ways(self, name: str, window_of, what: str) -> None:
        """A figure over the periods before each one (a change, a moving average) in a range of whole
        periods: the first periods of the range look back before it, or only within it? Both are shown:
        `name` over every period (the range becomes the rows shown), and `name`_within_range computed
        only over the periods of the range. Read so for a range of whole periods of the unit."""
        r = self.r
        alias, key = next((a, k) for a, k, t in self.q.groups if t)
        unit = key.args.get("unit") if isinstance(key, exp.TimestampTrunc) else (
            key.this.args.get("unit") if isinstance(key, exp.Cast) and isinstance(key.this, exp.TimestampTrunc) else None)
        unit = unit.name.lower() if unit is not None else "year" if isinstance(key, exp.Extract) else None
        if unit not in ("month", "quarter", "year") or r.bucketed is None:
            return
        for condition in list(r.conditions):
            bounds = _range_on(condition.expression, r.bucketed)
            if condition.having or bounds is None:
                continue
            months = {"month": range(1, 13), "quarter": (1, 4, 7, 10), "year": (1,)}[unit]
            if any(d.day != 1 or d.month not in months for d in bounds):
                continue
            r.conditions.remove(condition)
            low, high = bounds
            lo, hi = (lit(low.year), lit(high.year)) if unit == "year" else (lit(low), lit(high))
            self.q.shown_range = [exp.GTE(this=col(alias), expression=lo), exp.LT(this=col(alias), expression=hi)]
            inside = exp.Paren(this=exp.and_(exp.GTE(this=key.copy(), expression=lo.copy()),
                                             exp.LT(this=key.copy(), expression=hi.copy())))
            self.q.selects.append((f"{name}_within_range", window_of([inside])))
            r.notes.append(f"the {what} is shown two ways: {name} looks back before the first {unit} shown, "
                           f"{name}_within_range only within the {unit}s shown (from {low} to before {high})")
            return

    def _read_rank(self) -> None:
        """'rank the categories by forecast cost': rank() over the groups, or over records."""
        r = self.r
        buckets = [k for _, k, t in self.q.groups if t]
        value = next(((a, e) for a, e in self.q.selects if a not in ("share_pct",)), None)
        ranks = [i for i, x in enumerate(self.items) if not x.used and x.kind == "rank"]
        if ranks:
            measure, used, count = self._by_measure(ranks[0])
            if measure is None and not count:
                measure, used = self._measure_after(ranks[0], allow_values=False)
            if self.q.groups and not buckets:
                if count:
                    expression = exp.Count(this=exp.Star())
                elif measure is not None:
                    func = "avg" if measure.days or measure.key in ("monthly_rate", "purchase_price") else "sum"
                    expression = aggregate(func, measure.sql())
                elif value is not None:
                    expression = value[1]
                else:
                    return
                alias = next((a for a, e in self.q.selects if e == expression), None)
                if alias is None:
                    self.q.selects.append((f"{expression.key}_{measure.alias}" if measure else "records", expression))
            elif not self.q.groups and measure is not None and not count:
                expression = measure.sql()
                self.q.columns.append((measure.alias, expression))
            else:
                return
            within = [k.copy() for a, k, _ in self.q.groups if a in self.q.partition] \
                if self.q.groups and len(self.q.partition) < len(self.q.groups) else []
            directions = [i for i, x in enumerate(self.items) if not x.used and x.kind == "rankdir"]
            desc = not directions or self.items[directions[0]].value == "desc"
            dense = self.items[ranks[0]].value == "dense"
            window = exp.Window(this=exp.Anonymous(this="dense_rank" if dense else "rank"), partition_by=within or None,
                                order=exp.Order(expressions=[exp.Ordered(this=expression.copy(), desc=desc,
                                                                         nulls_first=False)]), over="OVER")
            (self.q.selects if self.q.groups else self.q.columns).append(("rank", window))
            r.use(*ranks, *used, *directions[:1])
            r.notes.append(f"'{self.items[ranks[0]].surface}' read as the {'dense ' if dense else ''}rank by "
                           f"{expression.sql(dialect='postgres')}"
                           + (f" within each {' and '.join(self.q.partition)}" if within else "")
                           + (", highest first" if desc else ", lowest first")
                           + (" (ties share a rank, no gaps after them)" if dense else " (ties share a rank)"))

    def _qual_list(self, j: int) -> tuple[list[Measure], list[int]] | None:
        """'plan, forecast and actual cost' after an aggregate: one measure per qualifier."""
        r = self.r
        k = r.next_content(j, 1, {"stop"})
        quals, used = [], []
        costs = {"plan_cost": "plan", "actual_cost": "actual"}
        while r.kind(k) == "qual":
            quals.append(self.items[k].value)
            used.append(k)
            sep = r.next_content(k, 1, {"stop"})
            last = r.next_content(sep, 1, {"stop"})
            if quals and r.kind(sep) == "and" and r.kind(last) == "measure" and self.items[last].value in costs:
                quals.append(costs[self.items[last].value])  # '... and actual cost'
                used += [sep, last]
                return [r._measure("cost", q) for q in dict.fromkeys(quals)], used
            if r.kind(sep) == "and" and r.kind(last) == "qual":
                used.append(sep)
                k = r.next_content(sep, 1, {"stop"})
            else:
                k = sep
                break
        if len(quals) < 2 or r.kind(k) != "measure" or self.items[k].value not in ("cost", "duration"):
            return None
        key = self.items[k].value
        return [r._measure(key, q) for q in dict.fromkeys(quals)], used + [k]

    def _refers_back(self, j: int) -> bool:
        """'..., with the count' / 'show the totals': nothing of its own follows the aggregate, so it is
        the figure already shown; 'the number that start this quarter' has conditions of its own."""
        for item in self.items[j + 1:]:
            if item.kind in ("agg", "super", "top", "share"):
                return True
            if item.kind not in SOFT and item.kind not in ("stop",) and not (item.used and item.kind == "dim"):
                return False
        return True

    def _next_raw(self, i: int) -> int:
        """The next item after i that is not a stop word, used or not."""
        j = i + 1
        while j < len(self.items) and self.items[j].kind == "stop":
            j += 1
        return j

    def _words_from(self, start: int, end: int) -> str:
        return " ".join(self.items[x].surface for x in range(start, end + 1))

    def _by_measure(self, after: int) -> tuple[Measure | None, list[int], bool]:
        """'... by forecast cost' / '... by record count' after a ranking: (measure, items, is a count)."""
        r = self.r
        for x in range(after + 1, len(self.items)):
            it = self.items[x]
            if it.used or it.kind != "group" or it.surface.lower() not in ("by", "on"):
                continue
            k = r.next_content(x, 1, {"stop"})
            if r.kind(k) == "record" and r.kind(r.next_content(k, 1, {"stop"})) == "agg" and \
                    self.items[r.next_content(k, 1, {"stop"})].value == "count":
                return None, [x, k, r.next_content(k, 1, {"stop"})], True  # 'by record count'
            if r.kind(k) == "agg" and self.items[k].value == "sum_default" and \
                    r.kind(r.next_content(k, 1, {"stop"})) == "record":  # 'by how much equipment'
                return None, [x, k, r.next_content(k, 1, {"stop"})], True
            if r.kind(k) == "agg" and self.items[k].value == "count":
                m = r.next_content(k, 1, {"stop"})
                return None, [x, k] + ([m] if r.kind(m) == "record" else []), True  # 'by number of items'
            agg_used = []
            if r.kind(k) == "agg" and self.items[k].value in ("sum", "avg", "median"):
                agg_used, self.by_func = [k], self.items[k].value  # 'by average rental rate'
            following, m_used = self._measure_after(agg_used[0] if agg_used else x, allow_values=False)
            if following is not None:
                return following, [x, *agg_used, *m_used], False
            self.by_func = None
            return None, [], False
        return None, [], False

    def _ordering(self, used: list[int], n: int, desc: bool | None, explicit: bool, sup_at: int | None = None) -> None:
        r = self.r
        j = sup_at if sup_at is not None else r.next_content(max(used), 1, {"stop"})
        measure, implied, count = None, None, False
        if r.kind(j) == "super":
            sup = self.items[j]
            desc = sup.value[0] == "max" if desc is None or desc else not (sup.value[0] == "max")
            used.append(j)
            following, m_used = self._measure_after(max(used))
            if sup.value[1] in (None, "count") and r.kind(r.next_content(j, 1, {"stop", "flag", "value"})) == "record":
                following, m_used = None, []  # 'the 2 classes with the most kit ...': a count of the records
            if following is not None:
                measure = following
                used += m_used
            elif sup.value[1] == "cost":
                implied = Measure("forecast_cost")
            elif sup.value[1] == "duration":
                implied = Measure("duration")
            elif sup.value[1] in ("days_on_site", "days_overdue"):  # 'on site the longest' (constructions.py)
                implied = Measure(sup.value[1], today=r.today)
            elif sup.value[1] == "count" or (sup.value[1] is None and
                                             r.kind(r.next_content(max(used), 1, {"stop"})) == "record"):
                count = True  # 'the 3 areas with the most items'
                if r.kind(r.next_content(max(used), 1, {"stop"})) == "record":
                    used.append(r.next_content(max(used), 1, {"stop"}))
        if measure is None:
            by_measure, by_used, by_count = self._by_measure(max(used))
            if by_measure is not None or by_count:
                measure, count = by_measure, by_count
                used += by_used
        if measure is None and implied is not None:
            measure = implied
        first = [x for x in range(min(used) + 1, len(self.items)) if self.items[x].kind not in ("stop", "num", "super")]
        within = bool(self.q.partition) and all(a in self.q.partition for a, _, _ in self.q.groups)
        # the rows are records: 'the 2 biggest rentals in each area', 'the 3 biggest overruns in each area'
        records = bool(first) and (self.items[first[0]].kind in ("record", "value") or (
            within and self.items[first[0]].kind == "measure" and self.items[first[0]].plural))
        if measure is None and not count and (not self.q.groups or (within and records)):
            measure = Measure("forecast_cost")
            r.notes.append("no measure named for the ranking: forecast cost")
        if count and not self.q.groups:
            return  # a count of single records ranks nothing: left for the leftover check
        r.use(*used)
        self._order(measure, True if desc is None else desc, n,
                    f"'{' '.join(self.items[u].surface for u in sorted(used))}'", records=records)

    def _count(self, run: list[int], j: int) -> None:
        """'how many' (count of records) or 'how many areas' (count of distinct values)."""
        r = self.r
        k = r.next_content(j, 1, {"stop"})
        if r.kind(k) == "dim":
            column = self.items[k].value
            r.use(*run, k)
            if self.q.having:
                pass
            self.q.selects.append((f"distinct_{column}", aggregate("distinct", col(column))))
            r.notes.append(f"'{self.items[run[0]].surface} {self.items[k].surface}' read as the number of "
                           f"different {column} values")
            return
        if r.kind(k) == "unit" and self.items[k].value == "day" and any(
                a.endswith("_days") for a, _ in self.q.selects + self.q.columns) and self._refers_back(k):
            r.use(*run, k)  # 'the 5 longest rentals, and how many days': the days already shown
            r.notes.append(f"'{self.items[run[0]].surface} {self.items[k].surface}' read as the days already shown")
            return
        r.use(*run)
        if any((isinstance(e, exp.Count) and isinstance(e.this, exp.Star)) or a == "matching_records"
               for a, e in self.q.selects) and \
                self._refers_back(j):
            r.notes.append(f"'{self.items[run[0]].surface}' read as the count already shown")
            return
        self.q.selects.append(("records", exp.Count(this=exp.Star())))

    def _distinct(self, run: list[int], j: int) -> bool:
        r = self.r
        k = r.next_content(j, 1, {"stop"})
        if r.kind(k) != "dim":
            return False
        column = self.items[k].value
        r.use(*run, k)
        ranked = [x for x in run if self.items[x].kind == "super" and self.items[x].value[0] in ("max", "min")]
        if ranked and any(a != column for a, _, _ in self.q.groups):
            # 'which supplier covers the most different kit types': suppliers ranked by how many classes
            self.q.groups = [g for g in self.q.groups if g[0] != column]
            figure = aggregate("distinct", col(column))
            self.q.selects.append((f"distinct_{column}", figure))
            self.q.order.append((figure.copy(), self.items[ranked[0]].value[0] == "max"))
            self.q.limit = self._rows_for(self.subject is not None and self.subject.plural)
            if self.n_hint is not None:
                self.q.limit, self.n_hint = self.n_hint, None
            r.notes.append(f"'{self.items[ranked[0]].surface} {self.items[k].surface}' read as the {self.q.limit} "
                           f"group(s) with the {'most' if self.q.order[-1][1] else 'fewest'} different {column} values")
            return True
        if not any(self.items[x].kind == "agg" and self.items[x].value == "count" for x in run):
            # 'list the different models we have from caterpillar': the values themselves, not how many
            self._group_dim(k)
            r.notes.append(f"'{self.items[run[0]].surface} {self.items[k].surface}' read as the list of different "
                           f"{column} values")
            return True
        self.q.selects.append((f"distinct_{column}", aggregate("distinct", col(column))))
        r.notes.append(f"'{self.items[k].surface}' counted as different {column} values")
        return True

    def _plain_measure(self, i: int) -> None:
        """A measure with no aggregate: a column of a list, or a total per group."""
        r = self.r
        item = self.items[i]
        qual_index = r.next_content(i, -1, {"stop"})
        qual = self.items[qual_index].value if r.kind(qual_index) == "qual" else None
        measure = r._measure(item.value, qual)
        used = [i] + ([qual_index] if qual is not None else [])
        r.use(*used)
        shown = [a for a, _ in self.q.selects + self.q.columns]
        if any(a.endswith(measure.alias) and (a == measure.alias or a[:a.index("_") + 1] in
                                              ("sum_", "avg_", "median_", "min_", "max_")) for a in shown):
            r.notes.append(f"'{item.surface}' read as the {measure.name} already shown")
            return
        if self.q.order and not self.q.groups and not self.q.selects:  # 'top 5 rentals by slip, with their rate'
            self.q.columns.append((measure.alias, measure.sql()))
            r.notes.append(f"'{item.surface}' shown as {measure.name} per record")
            return
        if self.q.groups or self.q.selects:
            func = "avg" if measure.days or measure.key in ("monthly_rate", "purchase_price") else "sum"
            if func == "avg" and not measure.days and self._summed_said():
                func = "sum"  # 'what have we paid out in purchase price with each supplier', 'cumulative price'
            if func == "avg" and self.q.groups and not self.q.selects:
                constructions.unsaid_aggregate(item.surface, measure.name, r.notes)
            self.q.selects.append((f"{func}_{measure.alias}", aggregate(func, measure.sql())))
            r.notes.append(f"'{item.surface}' read as the {'average' if func == 'avg' else 'total'} {measure.name}")
        elif self.listing or self._said_as_their(min(used)) or self.q.columns or any(
                x.surface.lower() in ID_WORDS for x in self.items):  # 'rentals due soon, with their rates'; '- ids and cost'
            if self.asks_what and not self.r.grouped:
                constructions.list_or_total(item.surface, r.notes)
            self.q.columns.append((measure.alias, measure.sql()))
            r.notes.append(f"'{item.surface}' shown as {measure.name} per record")
        else:
            func = "avg" if measure.days or measure.key in ("monthly_rate", "purchase_price") else "sum"
            self.q.selects.append((f"{func}_{measure.alias}", aggregate(func, measure.sql())))
            r.notes.append(f"'{item.surface}' read as the {'average' if func == 'avg' else 'total'} {measure.name}")

    def _summed_said(self) -> bool:
        """Words that say a rate or a price is added up: paid out, adding up to, cumulative, in total."""
        said = " ".join(x.surface.lower() for x in self.items)
        return any(x.kind == "running" for x in self.items) or any(re.search(rf"\b{w}\b", said) for w in SUMMED)

    def _flag_or_not(self) -> None:
        """'split funds-transferable vs not', 'cancelled or not': one row for the records with the flag
        and one for those without, grouped by the flag's own condition."""
        r, items = self.r, self.items
        for i, item in enumerate(items[:-2]):
            joint, neg = items[i + 1], items[i + 2]
            if item.used or item.kind != "flag" or joint.kind not in ("vs", "or", "and") \
                    or neg.kind != "neg" or neg.surface.lower() != "not" \
                    or (i + 3 < len(items) and items[i + 3].kind not in ("stop", "and", "group", "dim")):
                continue
            expression, label = r.flag_table()[item.value]
            used = [i, i + 1, i + 2]
            before = r.next_content(i, -1, {"stop"})
            if r.kind(before) == "group" and items[before].surface.lower() in ("split", "split by", "by", "broken down by"):
                used.append(before)
            r.use(*used)
            self.q.groups.append((item.value, expression.copy(), False))
            r.grouped = True
            r.notes.append(f"'{r._words(sorted(used))}' read as one row for the records {label} and one for the rest")
            return

    def _said_as_their(self, i: int) -> bool:
        """'with their rates', 'and its plan cost': a possessive just before a measure makes it each
        record's own figure, a column of the list, not a total or an average."""
        if any((x.kind == "agg" and not x.used) or x.surface.lower() in TOGETHER for x in self.items):
            return False  # 'what's their forecast cost in total': an aggregate said
        j = i - 1
        while j >= 0 and self.items[j].kind in ("stop", "and", "qual") and not self.items[j].used:
            if self.items[j].surface.lower() in ("their", "its"):
                return True
            j -= 1
        return False

    def _read_share(self) -> bool:
        r = self.r
        shares = [i for i, x in enumerate(self.items) if not x.used and x.kind == "share"]
        if not shares:
            return False
        i = shares[0]
        r.use(*shares)  # 'what share ..., in percent': one share, said twice
        if "share_pct" in [a for a, _ in self.q.selects]:  # '... more than half overdue? show the %'
            r.notes.append(f"'{self.items[i].surface}' read as the share already shown")
            return False
        k = r.next_content(i, 1, SKIP | {"stop"})
        after = k if r.kind(k) == "agg" and self.items[k].value == "sum" else i  # 'share of the total cost'
        measure, m_used = self._measure_after(after, allow_values=False)
        if measure is None:  # 'split of welding spend by manufacturer': the value is a condition
            measure, m_used = self._measure_after(after, allow_values=True)
        if after != i and measure is not None:
            m_used = [after, *m_used]
        r.use(*m_used)
        verbs = [x for x, it in enumerate(self.items) if x > i and it.kind == "verb" and not it.used]
        split = verbs[0] if verbs else None
        if len(verbs) > 1 and self.items[verbs[0]].surface.lower().split()[0] in ("that", "which", "who"):
            split = verbs[1]  # 'share of items that are cranes are rentals': the clause names the whole
            r.use(verbs[0])
        row_conditions = [c for c in r.conditions if not c.having]
        numerator = [c for c in row_conditions if split is not None and c.pos > split]
        if split is None and not self.q.groups:
            numerator = row_conditions
            first = next((j for j in range(i + 1, len(self.items)) if self.items[j].kind != "stop"), len(self.items))
            later = [c for c in row_conditions if c.pos > first]
            clause = next((j for j in range(first, len(self.items)) if (self.items[j].kind == "verb" or (
                self.items[j].kind == "stop" and self.items[j].surface.lower() in ("that", "which", "who")))
                and any(c.pos < j for c in row_conditions) and any(c.pos > j for c in row_conditions)), None)
            if clause is not None:
                # 'percentage of rentals in silo 3 that have slipped', '% of purchases in Jetty have slipped':
                # of what comes before the clause or verb, the part after it
                numerator = [c for c in row_conditions if c.pos > clause]
            elif first < len(self.items) and self.items[first].kind == "value" and later \
                    and any(c.pos == first for c in row_conditions):
                numerator = later  # 'percentage of cranes cancelled': of the cranes, the cancelled ones
        elif split is None and (clause := self._relative_clause(i)) is not None:
            # 'per dor, % of items that have slipped': within each group, the part that matches the clause
            numerator = [c for c in row_conditions if c.pos > clause]
        elif split is None and (said := self._adjectives_before_record(i)) is not None:
            # 'percentage of slipped items in each category', '% of cancelled kit per area': the same
            numerator = [c for c in row_conditions if said[0] <= c.pos < said[1]]
        elif split is None and self.q.groups and (noun := self._records_named(i)) is not None:
            # 'for each category, what % of its records have slipped': within each group, the part
            # that matches what is said after the records
            numerator = [c for c in row_conditions if c.pos > noun]
        owner = self.items[i - 1] if i > 0 else None
        said = self.question.lower().replace("’", "'")
        if owner is not None and owner.kind == "value" and re.search(re.escape(owner.surface.lower()) + r"'", said) \
                and split is None and any(c.pos > i for c in row_conditions) and any(c.pos < i for c in row_conditions):
            # "batch plants' share of the concrete forecast spend": the owner's part of what follows 'of'
            numerator = [c for c in row_conditions if c.pos < i]
            split = i  # (the explanation names the split)
        compared = {column for column, _ in r.vs}
        if numerator and self.q.groups and all(_on_column(c.expression) in compared for c in numerator):
            # 'within each category what % of the forecast is rental vs bought': the compared values are
            # the rows of each group, each a part of the rest of its group
            partial = [column for column, values in r.vs if not BY_COLUMN.get(column) or not BY_COLUMN[column].allowed
                       or set(BY_COLUMN[column].allowed) - set(values)]
            if partial:  # 'cranes vs generators': a share of the two, or of every category? not said
                raise NotUnderstood(f"The offline reader does not know whether each share is of the values compared "
                                    f"only or of every {partial[0]}, so it does not answer rather than guess. "
                                    f"Rephrase, e.g. \"share of records by {partial[0]} within each area\".",
                                    words=[], understood=list(r.notes))
            numerator = []
            self.q.partition = [a for a, _, _ in self.q.groups if a not in compared]
        self.numerator = numerator
        top = measure.sql() if measure else None
        num_cond = conjunction([c.expression for c in numerator])
        if measure is not None:
            part = exp.Sum(this=top) if num_cond is None else exp.Filter(
                this=exp.Sum(this=top.copy()), expression=exp.Where(this=num_cond))
            whole = exp.Sum(this=top.copy())
            name = f"share of {measure.name}"
        else:
            part, whole, name = count_filter(num_cond), exp.Count(this=exp.Star()), "share of records"
        whole_of = self._possessive_whole(i)
        if whole_of is not None and whole_of in [a for a, _, _ in self.q.groups]:
            self.q.partition = [whole_of]  # "each manufacturer's share of its category's spend": within the category
        within = [k.copy() for a, k, _ in self.q.groups if a in self.q.partition]
        if self.q.groups and not numerator and within and len(within) < len(self.q.groups):
            whole = exp.Window(this=exp.Sum(this=part.copy()), partition_by=within, over="OVER")
            how = f"each group's part of its {' and '.join(self.q.partition)} (100% within each)"
            self.q.partition = []  # a share within each, not a top N within each
        elif self.q.groups and not numerator:
            whole = exp.Window(this=exp.Sum(this=part.copy()), partition_by=None, over="OVER")
            how = "each group's part of the whole (100% over all rows)"
        elif numerator and split == i:
            how = f"100 x the records said before '{self.items[i].surface}' / all records matching what follows it"
        elif numerator and split is not None:
            how = (f"100 x the records that also match what follows '{self.items[split].surface}' / all records "
                   f"matching the rest" + (", per group" if self.q.groups else ""))
        elif numerator:
            how = "100 x the matching records / all records"
        else:
            how = "of all rows"
        self.q.selects.append(("share_pct", share(part, whole)))
        if self.q.groups and not numerator:
            self.q.selects.append(("records" if measure is None else f"sum_{measure.alias}", part.copy()))
        r.notes.append(f"'{self.items[i].surface}' read as the {name} in percent: {how}")
        if split is not None:
            r.use(split)
        return True


    def _possessive_whole(self, i: int) -> str | None:
        """'share of its category's ...' / 'of their area's total': the dimension the whole is taken within."""
        for j in range(i + 1, len(self.items) - 1):
            item, nxt = self.items[j], self.items[j + 1]
            if item.kind == "stop" and item.surface.lower() in ("its", "their") and nxt.kind == "dim":
                return nxt.value
            if item.kind == "dim" and item.surface.lower().endswith(("'s", "s'")):  # 'each area's spend'
                return item.value
        return None

    def _adjectives_before_record(self, i: int) -> tuple[int, int] | None:
        """'(share) of slipped items': the span of condition words between 'of' and a record noun."""
        j = i + 1
        while j < len(self.items) and self.items[j].kind == "stop":
            j += 1
        start = j
        while j < len(self.items) and (self.items[j].kind == "flag" or (
                self.items[j].kind == "measure" and self.items[j].surface.lower() in ("slipped", "delayed"))):
            j += 1
        if j > start and j < len(self.items) and self.items[j].kind == "record":
            return start, j
        return None

    def _records_named(self, i: int) -> int | None:
        """'(share) of its records ...', 'of the items ...': where the record noun is, right after 'of'."""
        j = i + 1
        while j < len(self.items) and self.items[j].kind == "stop":
            j += 1
        return j if j < len(self.items) and self.items[j].kind == "record" else None

    def _relative_clause(self, i: int) -> int | None:
        """'(share) of items that ...' / 'of the kit which ...': where the clause starts, after a record noun."""
        j = i + 1
        seen_record = False
        while j < len(self.items) and self.items[j].kind in ("stop", "record", "verb"):
            seen_record = seen_record or self.items[j].kind == "record"
            if seen_record and self.items[j].surface.lower().split()[0] in ("that", "which", "who"):
                return j  # 'that', or a verb said with it ('that have', 'which are')
            j += 1
        return None


def _count_number(item: Item) -> bool:
    """A number that can be the N of a top N: a whole, plain number of at most 1,000."""
    token = item.value
    return token is not None and token.value is not None and token.value.is_integer() and not token.money \
        and not token.percent and 1 <= token.value <= 1000
