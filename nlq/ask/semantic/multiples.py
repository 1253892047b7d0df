"""A multiple said with a comparison: 'more than double', 'twice', '3x', '3 times', '50% above',
'20% below' the average. Read by the comparisons with an average (one overall, or each record's
group's), so 'more than double the class average' is 2 x that average, never the average itself."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlq.ask.semantic.conditions import Reader

MULTIPLES = {"double": 2.0, "twice": 2.0, "triple": 3.0, "treble": 3.0, "thrice": 3.0, "half": 0.5}
_TIMES = re.compile(r"^(\d+(?:\.\d+)?)x$")
UP_WORDS = ("above", "over", "more than", "higher than", "greater than", "more", "bigger than")
DOWN_WORDS = ("below", "under", "less than", "lower than", "smaller than", "less")


def factor_at(reader: Reader, j: int) -> tuple[float, list[int], int] | None:
    """A multiple of what follows, said at item j: (factor, the items it took, the next item).

    'double' / 'twice' / 'half', '3x', '3 times', '50% above' / '20% below'. None when there is none."""
    items = reader.items
    item = reader.live(j)
    if item is None:
        return None
    word = item.surface.lower()
    if word in MULTIPLES:
        if j + 1 < len(items) and items[j + 1].surface.lower() == "of":
            return None  # 'half of the items': a share, not a multiple
        return MULTIPLES[word], [j], reader.next_content(j, 1, {"stop", "prep"})
    if (m := _TIMES.match(word)) and float(m.group(1)) > 0:
        return float(m.group(1)), [j], reader.next_content(j, 1, {"stop"})
    if item.kind == "num" and item.value is not None and getattr(item.value, "value", None):
        number = item.value
        k = j + 1
        if k < len(items) and not items[k].used and items[k].surface.lower() in ("times", "time", "x"):
            return float(number.value), [j, k], reader.next_content(k, 1, {"stop"})
        if number.percent and k < len(items) and not items[k].used and items[k].kind == "cmp":
            said = items[k].surface.lower()
            if said in UP_WORDS:
                return 1 + number.value / 100, [j, k], reader.next_content(k, 1, {"stop"})
            if said in DOWN_WORDS and number.value < 100:
                return 1 - number.value / 100, [j, k], reader.next_content(k, 1, {"stop"})
    return None


def toward(op: str, reader: Reader, factor_items: list[int]) -> str:
    """The comparison a multiple said downward turns: 'at least 20% below the average' is at most 0.8 x it."""
    down = len(factor_items) == 2 and reader.items[factor_items[1]].kind == "cmp" and \
        reader.items[factor_items[1]].surface.lower() in DOWN_WORDS
    return {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}.get(op, op) if down else op


def percent(reader: Reader, factor_items: list[int]) -> bool:
    """The multiple was said as a percentage ('50% above')."""
    return reader.items[factor_items[0]].kind == "num" and getattr(reader.items[factor_items[0]].value, "percent", False)
