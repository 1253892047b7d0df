"""A count and how many of those meet more: 'for each month of 2027, how many rentals come off hire
and how many of those have slipped', 'rentals on site per area, and what % of them are overdue'.

The question is two questions over the same records: the count asked first, and the part of it that
also meets what is said after 'of those'. Each part is read by the whole parser on its own, so
either part it cannot read declines the question. The second part may only add conditions on
records (no groups, rankings or figures of its own); its conditions become a FILTER on the first
part's count, beside it, and its share of that count when a percentage is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import Query, conjunction, count_filter, share
from nlq.ask.semantic.lexicon import Vocabulary

Reader = Callable[[str, Vocabulary, date], tuple[Query, list[str]]]

_SPLIT = re.compile(r"^(?P<main>.+?)[,;]?\s+(?:and|plus|-)\s+(?P<ask>how many|what (?:%|percent|percentage|share|"
                    r"proportion|fraction))\s+(?:of\s+)?(?:those|them|these)(?:\s+(?:items|records|kit|ones))?\s+"
                    r"(?P<rest>.+?)\??$", re.IGNORECASE)


def plain_count(query: Query) -> bool:
    """A count of records (per group or not), with no ranking, condition on groups or other figure."""
    counted = [a for a, e in query.selects if a == "records" and isinstance(e, exp.Count)]
    return bool(counted) and not query.order and query.limit is None and not query.count_groups \
        and not query.having and len(query.selects) == 1


def only_conditions(query: Query) -> bool:
    """A count of records that says only conditions on them: no groups, ranking or figure of its own."""
    return not (query.groups or query.order or query.limit is not None or query.having or query.count_groups) \
        and [a for a, _ in query.selects] == ["records"] and bool(query.where)


# '... how many items are overdue and how much monthly hire is tied up in them': a figure of the same records
_FIGURE_OF_THEM = re.compile(r"^(?P<main>.+?)[,;]?\s+(?:and|plus|-)\s+(?P<fig>(?:how much|what(?:'s| is)?|the)\s+.+?)"
                             r"(?:\s+(?:is|are|do they|does it)(?:\s+(?:tied up|sitting|locked up|carried|spent|cost))?)?"
                             r"\s+(?:in|on|across|for|of)\s+(?:them|those|these)(?:\s+(?:items|records|kit|ones))?\??$",
                             re.IGNORECASE)


def split_figure(question: str) -> tuple[str, str] | None:
    """(the first question, the figure asked of the same records), or None."""
    m = _FIGURE_OF_THEM.match(question.strip())
    return None if m is None else (m.group("main"), m.group("fig"))


def read_figure_of_them(parts: tuple[str, str], vocab: Vocabulary, today: date, read: Reader
                        ) -> tuple[Query, list[str]] | None:
    """The count asked first with the figure asked of the same records beside it, or None when the
    first part is not a count or the second is more than a figure (then the question is read whole)."""
    main_text, figure_text = parts
    try:
        main, main_notes = read(main_text, vocab, today)
        figure, figure_notes = read(figure_text, vocab, today)
    except NotUnderstood:
        return None
    if not plain_count(main):
        return None
    if figure.where or figure.groups or figure.order or figure.limit is not None or figure.having \
            or figure.count_groups or figure.columns or not figure.selects \
            or not all(isinstance(e, exp.AggFunc) for _, e in figure.selects):
        return None
    main.selects += figure.selects
    return main, [*main_notes, f"'{figure_text}' read as a figure of the same records: " + "; ".join(figure_notes)]


def split(question: str) -> tuple[str, str, bool] | None:
    """(the first question, the second as a count, whether a share is asked), or None."""
    m = _SPLIT.match(question.strip())
    if m is None:
        return None
    return m.group("main"), f"how many items {m.group('rest')}", m.group("ask").lower() != "how many"


def read_narrowed(parts: tuple[str, str, bool], vocab: Vocabulary, today: date, read: Reader
                  ) -> tuple[Query, list[str]] | None:
    """The two parts read as one statement, or None when the first part is not a count of records
    (a list, a ranking: the grammar's own readings and declines of 'of those' apply)."""
    main_text, rest_text, asks_share = parts
    try:
        main, main_notes = read(main_text, vocab, today)
    except NotUnderstood:
        return None
    if not plain_count(main):
        return None
    rest, rest_notes = read(rest_text, vocab, today)
    if not only_conditions(rest):
        raise NotUnderstood(f"The offline reader read '{rest_text}' as more than conditions on the records counted "
                            "first, so it does not answer rather than guess. Rephrase, e.g. \"how many rentals are "
                            "on site per area, and how many of those are overdue\".", words=[], understood=rest_notes)
    condition = conjunction(rest.where)
    part = count_filter(condition)
    main.selects.append(("of_those", part))
    if asks_share:
        main.selects.append(("of_those_pct", share(part.copy(), exp.Count(this=exp.Star()))))
    notes = [*main_notes, f"'{rest_text[len('how many items '):]}' read as the part of that count that also meets: "
                          + "; ".join(rest_notes) + (" (its share in percent shown too)" if asks_share else "")]
    return main, notes
