"""Groups by the share of their records that meet a condition: 'areas where more than 35% of the
kit is bought', 'categories where over half the items are rentals', 'areas where more than half
the kit on site is overdue'.

The conditions said before 'is' / 'are' ('the kit on site') say which records of the group are
counted at all (the WHERE); those after it ('overdue') say which of them are in the share (a
FILTER). The share is in percent (0-100), tested in HAVING and shown beside each group.
"""

from __future__ import annotations

from sqlglot import exp

from nlq.ask.semantic.build import FLIP, WORDS, compare, conjunction, count_filter, lit, share
from nlq.ask.semantic.conditions import Condition, Reader

FRACTIONS = {"half": 50.0, "a half": 50.0, "one half": 50.0, "a third": 100 / 3, "one third": 100 / 3,
             "two thirds": 200 / 3, "a quarter": 25.0, "one quarter": 25.0, "three quarters": 75.0}
LINKS = ("is", "are", "was", "were", "have been", "has been", "being")


def _fraction_at(reader: Reader, j: int) -> tuple[float, list[int]] | None:
    """'35%', 'half', 'a third', 'two thirds' at item j: (percent, the items it took)."""
    item = reader.live(j)
    if item is None:
        return None
    if item.kind == "num" and item.value.percent:
        return float(item.value.value), [j]
    for width in (2, 1):
        taken = list(range(j, min(j + width, len(reader.items))))
        said = " ".join(reader.items[x].surface.lower() for x in taken)
        if said in FRACTIONS and len(taken) == width and not any(reader.items[x].used for x in taken):
            return FRACTIONS[said], taken
    # 'a' / 'two' before the word: the stop word or number item then the fraction word
    if j + 1 < len(reader.items):
        said = f"{item.surface.lower()} {reader.items[j + 1].surface.lower()}"
        if said in FRACTIONS and not reader.items[j + 1].used:
            return FRACTIONS[said], [j, j + 1]
    return None


def read_group_shares(reader: Reader, numerator: list[Condition]) -> None:
    """A HAVING on the share of each group's records; the share's own conditions go to `numerator`
    (kept out of the WHERE)."""
    if not reader.grouped:
        return
    items = reader.items
    for i, item in enumerate(items):
        if item.used or item.kind != "cmp" or item.value not in ("gt", "gte", "lt", "lte"):
            continue
        j = i + 1
        while j < len(items) and items[j].kind == "stop" and items[j].surface.lower() in ("the",):
            j += 1
        found = _fraction_at(reader, j)
        if found is None:
            continue
        percent, taken = found
        after = max(taken) + 1
        link = next((x for x in range(after, len(items)) if items[x].kind in ("verb", "stop")
                     and items[x].surface.lower() in LINKS), None)
        end = link if link is not None else len(items)
        counted = [x for x in range(after, end) if reader.kind(x) == "value"]  # left by read_values as a count
        if counted:
            reader.use(*counted)
            reader.add(reader._run_condition(counted), counted[0],
                       f"'{reader._words(counted)}' read as the records counted in each group")
        if any(reader.kind(x) == "measure" for x in range(after, len(items))):
            continue  # 'more than 20% of the kit on site slipped': a share of what the measure says, not read
        later = [c for c in reader.conditions if not c.having and c.pos >= after]
        if link is not None:
            share_of = [c for c in later if c.pos > link]
        elif counted:
            share_of = [c for c in later if c.pos > counted[-1]]
        elif len(later) > 1:  # 'more than half the kit on site overdue': the last condition is the share
            share_of = [max(later, key=lambda c: c.pos)]
        else:
            share_of = later
        if not share_of:
            continue
        condition = conjunction([c.expression for c in share_of])
        part = share(count_filter(condition), exp.Count(this=exp.Star()))
        neg = reader.negated(i)
        final = item.value if neg is None else FLIP[item.value]
        used = [i, *taken] + ([link] if link is not None else []) + ([neg] if neg is not None else [])
        reader.use(*used)
        numerator.extend(share_of)
        reader.add(compare(final, part, lit(round(percent, 6))), i,
                   f"'{reader._words(used)}' read as groups where the share of their records meeting the "
                   f"conditions said after it is {WORDS.get(final, final)} {percent:g}% (that share shown)", having=True,
                   show=("share_pct", part.copy()))
        return
