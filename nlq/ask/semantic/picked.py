"""A figure for the group a ranking picks, each with conditions of its own: 'in the area with the
biggest actual spend, how many items are on site now', 'total actual spend of the manufacturer with
the most kit on site', 'for the make with the cheapest avg rental rate, how many rentals are on site'.

The question is two questions: which group the superlative picks ('which area has the biggest actual
spend'), and the figure asked of that group's records. Each part is read by the whole parser on its
own, so either part it cannot read declines the question; the figure is then restricted to the group
the first part picks (a subquery with the ranking's own conditions). The conditions said in the
ranking clause rank; the ones said with the figure count. Where the two parts say the same
conditions, the grammar's one-statement reading (the ranked group's own figures) is used instead.

The same two steps read a question that opens with the pick ('take the area with the most overdue
kit - what's its budget'; 'of those' keeps the ranking's conditions, 'its' does not) and one that
counts among the N records a ranking picks ('of the 25 biggest overruns, how many are overhead-paid').
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import sqlglot
from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic import constructions
from nlq.ask.semantic.build import Query, col, conjunction, count_filter, lit, share
from nlq.ask.semantic.lexicon import Item, Vocabulary, kept_tokens
from nlq.ask.semantic.narrowed import only_conditions

ASKING = ("how", "what", "what's", "whats", "which", "show", "list", "give", "tell", "count", "total")
LINKS = ("with", "having", "has", "have", "that has", "which has", "that have", "which have", "where", "whose")

_BACK = re.compile(r"\b(?:of|in|among|from) (?:those|them|that|these|it)(?: items| records| kit| things)?\b,?",
                   re.IGNORECASE)

Reader = Callable[[str, Vocabulary, date], tuple[Query, list[str]]]


def split(question: str, items: list[Item]) -> tuple[str, str, str, str] | None:
    """(ranking question, figure question, the group's column, the words joining them) when the question
    asks a figure of a group a superlative picks with conditions of its own; None otherwise."""
    tokens = kept_tokens(question)

    def text(xs: list[Item]) -> str:  # the question's own words for a stretch of items
        return question[tokens[xs[0].start].start:tokens[xs[-1].end - 1].end] if xs else ""
    for i, item in enumerate(items):
        if item.kind != "dim":
            continue
        lead = constructions._raw_before(items, i)
        if lead is None or lead[0] not in constructions.FRAME_PREPS:
            continue
        end = constructions._chosen_by_superlative(items, i)
        if end is None or not any(x.surface.lower() in LINKS for x in items[i + 1:end]):
            continue
        if constructions._conditions(items[:lead[1]]) == constructions._conditions(items[end:]):
            continue  # the same records on both sides: the grammar's own reading
        before = items[:lead[1]]
        if all(x.kind == "stop" for x in before):  # 'in the area with ..., how many ...'
            rest = range(end + 1, len(items))
            boundary = next((k for k in rest if items[k].surface == ","), None)
            if boundary is None:
                boundary = next((k for k in rest if items[k].surface.lower().split()[0] in ASKING), None)
                ranking, figure = items[end:boundary], items[boundary:] if boundary is not None else []
            else:
                ranking, figure = items[end:boundary], items[boundary + 1:]
            joined = [*before, items[lead[1]]]
        else:  # 'total actual spend of the manufacturer with the most kit on site'
            ranking, figure = items[end:], before
            joined = [items[lead[1]]]
        if not ranking or not figure:
            continue
        asked = f"which {item.surface} has the {text(ranking)}"
        if items[i + 1].surface.lower() == "where":  # 'in the area where we've spent the most': which area we've ...
            asked = f"which {item.surface} {text(items[i + 2:end])} {text(ranking)}".replace("  ", " ")
        return (asked, text(figure), item.value,
                text([*joined, *items[lead[1] + 1:end]]))
    return None


# 'take the area with the most overdue kit - what's its budget', 'which class has the most kit on site,
# and how many of those are rented', 'whichever make we buy most from: their total spend'
_LEADING = re.compile(r"^\s*(?:(?:take|for|consider|look at)\s+)?(?P<lead>the|whichever|which)\s+(?P<rank>.+?)"
                      r"(?:\s+[-\u2013\u2014]+\s+|\s*[,;:]\s*(?:and\s+|then\s+)?|\?\s+(?:and\s+)?)(?P<figure>.+)$",
                      re.IGNORECASE)
# 'how many of those are rentals': those records of the ranking; 'its' / 'their' / 'of them': the group's records
_THOSE = re.compile(r"\b(?:those|these)\b(?! (?:areas|classes|categories|makes|manufacturers|suppliers|models))",
                    re.IGNORECASE)


# 'what percentage of its lines is that': the records the ranking counted, as a share of all the group's
_SHARE_OF_IT = re.compile(r"^(?:and\s+)?(?:what|which)(?:'s| is)?\s+(?:the\s+)?(?:%|percent|percentage|share|"
                          r"proportion|fraction)\s+(?:of\s+)?(?:its|their|all its|all their)\s+(?:lines|items|records|"
                          r"kit|things|equipment)\s+(?:is that|are those|are they|does that make|is it|that is)$",
                          re.IGNORECASE)


def _share_of_the_group(ranking: Query, ranking_text: str, figure_text: str, column: str,
                        ranking_notes: list[str]) -> tuple[Query, list[str]]:
    """The share of the picked group's records that meet the ranking's own conditions."""
    picked = exp.select(col(column)).from_(exp.Subquery(
        this=sqlglot.parse_one(ranking.statement(), dialect="postgres"),
        alias=exp.TableAlias(this=exp.to_identifier("picked"))))
    kept = conjunction([w.copy() for w in ranking.where])
    part = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=kept))
    share = exp.Div(this=exp.Mul(this=lit(100.0), expression=part),
                    expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=lit(0)))
    query = Query()
    query.selects = [(column, exp.Subquery(this=picked.copy())), ("share_pct", share)]
    query.where = [exp.In(this=col(column), query=exp.Subquery(this=picked))]
    return query, [f"read as two steps: first '{ranking_text}' ({'; '.join(ranking_notes)}), then '{figure_text}' "
                   f"as the records it counted, in percent of all that {column}'s records"]


def split_leading(question: str) -> tuple[str, str, bool] | None:
    """(ranking question, figure question, whether the figure keeps the ranking's conditions) when the
    question opens with a group a ranking picks and then asks a figure of it; None otherwise."""
    found = _LEADING.match(question)
    if found is None:
        return None
    rank, figure = found.group("rank").strip(), found.group("figure").strip(" ?.")
    if not re.search(r"\b(?:most|least|fewest|highest|lowest|biggest|largest|smallest|top|bottom|cheapest|"
                     r"dearest|priciest|busiest|quietest|worst|best)\b", rank, re.IGNORECASE):
        return None
    if not re.search(r"\b(?:its|their|it|they|them|those|these|that)\b", figure, re.IGNORECASE):
        return None  # a second question that does not refer back: not a figure of the picked group
    return f"which {rank}", figure, _THOSE.search(figure) is not None


def read_leading(parts: tuple[str, str, bool], vocab: Vocabulary, today: date, read: Reader
                 ) -> tuple[Query, list[str]] | None:
    """The figure of the group the leading ranking picks, or None when either part does not read as
    that (the question is then read whole)."""
    ranking_text, figure_text, keep = parts
    try:
        ranking, ranking_notes = read(ranking_text, vocab, today)
    except NotUnderstood:
        return None
    if len(ranking.groups) != 1 or ranking.limit is None or not ranking.order or ranking.count_groups \
            or ranking.partition or ranking.groups[0][2]:
        return None
    column = ranking.groups[0][0]
    if ranking.limit > 1 and not re.search(r"\b(?:in|across|among|from|for|at) (?:those|these|them)\b", figure_text,
                                           re.IGNORECASE):
        return None  # 'the 3 biggest areas, and how many of those are cranes': of each, or of all three?
    if _SHARE_OF_IT.search(figure_text) and ranking.where:
        return _share_of_the_group(ranking, ranking_text, figure_text, column, ranking_notes)
    cleaned = " ".join(_BACK.sub(" ", figure_text).split())
    cleaned = re.sub(r"\b(?:its|their|in those|in them|of its|of their)\b", " ", cleaned, flags=re.IGNORECASE)
    try:
        figure, figure_notes = read(" ".join(cleaned.split()), vocab, today)
    except NotUnderstood:
        return None
    if column in [a for a, _, _ in figure.groups] or figure.order or figure.limit is not None:
        return None
    picked = exp.select(col(column)).from_(exp.Subquery(
        this=sqlglot.parse_one(ranking.statement(), dialect="postgres"),
        alias=exp.TableAlias(this=exp.to_identifier("picked"))))
    inherited = []
    if keep:  # 'how many of those are rentals': of the records the ranking counted
        said = {w.sql(dialect="postgres") for w in figure.where}
        inherited = [w.copy() for w in ranking.where if w.sql(dialect="postgres") not in said]
    figure.where += [*inherited, exp.In(this=col(column), query=exp.Subquery(this=picked))]
    n = ranking.limit
    if n == 1 and figure.selects and not figure.groups and not figure.count_groups:
        figure.selects.insert(0, (column, exp.Subquery(this=picked.copy())))  # the one group, named
    notes = [f"read as two steps: first '{ranking_text}' ({'; '.join(ranking_notes)}), then '{figure_text}' for "
             f"{'that ' + column if n == 1 else f'those {n} {column} values'}'s records only"
             + (", keeping the first step's conditions" if inherited else ""), *figure_notes]
    return figure, notes


# 'of the 25 biggest overruns, how many are on overhead-paid kit', 'among the 10 priciest rentals - what % are cranes'
_OF_TOP = re.compile(r"^(?:of|among|out of) (?P<rank>the (?:top )?(?:\d+|two|three|four|five|six|seven|eight|nine|ten|"
                     r"twenty|fifty|hundred) .+?)\s*(?:,|-|:|;)\s*(?P<ask>how many|what (?:%|percent|percentage|share|"
                     r"proportion|fraction))(?: of (?:them|those))? (?P<rest>.+?)\??$", re.IGNORECASE)


def split_of_top(question: str) -> tuple[str, str, bool] | None:
    """(the ranking of records, the count asked of them, whether a share is asked), or None."""
    m = _OF_TOP.match(question.strip())
    if m is None:
        return None
    return m.group("rank"), f"how many items {m.group('rest')}", m.group("ask").lower() != "how many"


def read_of_top(parts: tuple[str, str, bool], vocab: Vocabulary, today: date, read: Reader
                ) -> tuple[Query, list[str]] | None:
    """How many of the N records a ranking picks meet the conditions said after it (and their share),
    or None when the first part is not a ranking of records or the second more than conditions."""
    ranking_text, rest_text, asks_share = parts
    try:
        ranking, ranking_notes = read(ranking_text, vocab, today)
        rest, rest_notes = read(rest_text, vocab, today)
    except NotUnderstood:
        return None
    if ranking.groups or ranking.selects or ranking.limit is None or not ranking.order or ranking.partition:
        return None
    if not only_conditions(rest):
        return None
    ranked = exp.select(col("id")).from_(exp.Subquery(
        this=sqlglot.parse_one(ranking.statement(), dialect="postgres"),
        alias=exp.TableAlias(this=exp.to_identifier("ranked"))))
    part = count_filter(conjunction(rest.where))
    query = Query()
    query.where = [exp.In(this=col("id"), query=exp.Subquery(this=ranked))]
    query.selects = [("records", exp.Count(this=exp.Star())), ("of_those", part)]
    if asks_share:
        query.selects.append(("of_those_pct", share(part.copy(), exp.Count(this=exp.Star()))))
    return query, [f"read as two steps: first '{ranking_text}' ({'; '.join(ranking_notes)}), then how many of those "
                   f"{rest_text[len('how many items '):]} ({'; '.join(rest_notes)})"
                   + (", with their share in percent" if asks_share else "")]


def read_picked(parts: tuple[str, str, str, str], vocab: Vocabulary, today: date, read: Reader
                ) -> tuple[Query, list[str]]:
    ranking_text, figure_text, column, joined = parts
    # 'how much of that is cranes', 'of those items, how many ...': the picked group's records
    figure_text = " ".join(_BACK.sub(" ", figure_text).split())
    ranking, ranking_notes = read(ranking_text, vocab, today)
    if [a for a, _, _ in ranking.groups] != [column] or ranking.limit != 1 or not ranking.order \
            or ranking.count_groups or ranking.partition:
        raise NotUnderstood(
            f"The offline reader read '{ranking_text}' as something other than one {column} picked by a "
            "ranking, so it does not answer rather than guess. Rephrase, e.g. \"which area has the highest "
            "forecast cost\"; \"total forecast cost of cranes per area\".", words=[], understood=ranking_notes)
    figure, figure_notes = read(figure_text, vocab, today)
    if column in [a for a, _, _ in figure.groups]:
        raise NotUnderstood(f"The offline reader read a figure per {column} for one {column}, so it does not "
                            "answer rather than guess. Rephrase, e.g. \"which area has the highest forecast "
                            "cost\".", words=[], understood=figure_notes)
    picked = exp.select(col(column)).from_(exp.Subquery(
        this=sqlglot.parse_one(ranking.statement(), dialect="postgres"),
        alias=exp.TableAlias(this=exp.to_identifier("picked"))))
    figure.where.append(exp.In(this=col(column), query=exp.Subquery(this=picked)))
    if figure.selects and not figure.groups and not figure.count_groups:  # one figure: name the group beside it
        figure.selects.insert(0, (column, exp.Subquery(this=picked.copy())))
    notes = [f"'{joined}' read as two steps: first '{ranking_text}' ({'; '.join(ranking_notes)}), then "
             f"'{figure_text}' for that {column}'s records only", *figure_notes]
    return figure, notes
