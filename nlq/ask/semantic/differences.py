"""How many more of one set of records than of another, each said with conditions of its own: 'how
many more items come off hire next quarter than this quarter', 'at the camp, how many more untagged
items are there than tagged ones', 'how many more items are overdue than are due back in the next
30 days'.

The two sides of one column's values ('more rentals than purchases') are read by contrasts.py. Here
the sides differ in dates or flags, so the question is read as two counts: the first side as said,
and the second with what it says in place of the first side's words of the same kind ('this
quarter' in place of 'next quarter'), or, when it says its own event ('are due back ...'), as the
first side's records with that event. Each count is read by the whole parser, so either one it
cannot read declines the question; both are then one statement of two filtered counts and their
difference.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.build import Query, conjunction, count_filter
from nlq.ask.semantic.lexicon import Vocabulary, tag

Reader = Callable[[str, Vocabulary, date], tuple[Query, list[str]]]

_MORE = re.compile(r"^(?P<pre>.*?)\bhow many (?P<word>more|fewer|less) (?P<a>.+?) than (?P<b>.+?)[?.!]*$",
                   re.IGNORECASE)
# the kinds of words that make one side differ from the other
_SIDE_KINDS = {"date", "flag", "part", "value", "qual"}


def split(question: str, vocab: Vocabulary, today: date) -> tuple[str, str, str, bool] | None:
    """(text before, first count's question, second count's question, whether 'fewer'), or None."""
    m = _MORE.match(question.strip())
    if m is None:
        return None
    pre, a, b = m.group("pre").strip(" ,"), m.group("a").strip(), m.group("b").strip()
    a_items, b_items = tag(a, vocab, today), tag(b, vocab, today)
    b_kinds = {x.kind for x in b_items if x.kind in _SIDE_KINDS}
    if not b_kinds:
        return None
    first_word = b.split()[0].lower()
    if first_word in ("are", "is", "have", "has", "were", "was", "will", "do", "did") or "part" in b_kinds:
        lead_words = []  # the first side's records: 'rentals', 'tower cranes', 'items'
        for x in a_items:
            if x.kind not in ("record", "value", "stop"):
                break
            lead_words.append(x.surface)
        noun = " ".join(lead_words) if any(x.kind in ("record", "value") for x in a_items[:len(lead_words)]) \
            else "items"
        second = f"{noun} {b}"  # 'than are due back in the next 30 days': the first side's records, that event
    else:
        kept = [x.surface for x in a_items if x.kind not in b_kinds]
        if len(kept) == len(a_items):
            return None  # nothing of the first side is replaced: not the same records said another way
        second = " ".join([*kept, b])
    lead = f"{pre}, " if pre else ""
    return lead, f"{lead}how many {a}", f"{lead}how many {second}", m.group("word").lower() != "more"


def read_difference(parts: tuple[str, str, str, bool], vocab: Vocabulary, today: date, read: Reader
                    ) -> tuple[Query, list[str]] | None:
    """Both counts and their difference, or None when either side is not a plain count of records."""
    _, first_text, second_text, fewer = parts
    try:
        first, first_notes = read(first_text, vocab, today)
        second, second_notes = read(second_text, vocab, today)
    except NotUnderstood:
        return None
    for side in (first, second):
        if side.groups or side.order or side.limit is not None or side.having or side.count_groups \
                or [a for a, _ in side.selects] != ["records"] or side.columns:
            return None
    said_first, said_second = conjunction(first.where), conjunction(second.where)
    if said_first is None or said_second is None or said_first.sql() == said_second.sql():
        return None
    a, b = count_filter(said_first), count_filter(said_second)
    query = Query()
    query.selects = [("first_count", a), ("second_count", b),
                     ("difference", exp.Sub(this=(b if fewer else a).copy(), expression=(a if fewer else b).copy()))]
    notes = [f"read as two counts: '{first_text}' ({'; '.join(first_notes)}) and '{second_text}' "
             f"({'; '.join(second_notes)}), and the {'second minus the first' if fewer else 'first minus the second'}"]
    return query, notes
