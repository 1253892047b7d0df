"""Groups by how many different values of another column they have: 'manufacturers that supply
more than one category', 'areas with at least 20 different classes', 'classes found in more than 10
areas'.

The second column, said right after the number, is what is counted (COUNT(DISTINCT ...)), not a
second grouping; read before the groups for that reason. The count is shown beside each group.
"""

from __future__ import annotations

from sqlglot import exp

from nlq.ask.semantic.build import FLIP, WORDS, col, compare, lit
from nlq.ask.semantic.conditions import Reader

DIFFERENT = ("different", "distinct", "separate", "unique")


def read_distinct_counts(reader: Reader) -> None:
    items = reader.items
    for i, item in enumerate(items):
        if item.used or item.kind != "cmp" or item.value not in ("gt", "gte", "lt", "lte", "eq"):
            continue
        j = reader.next_content(i, 1, {"stop"})
        number = reader.live(j)
        if number is None or number.kind != "num" or number.value.percent or number.value.money \
                or not float(number.value.value).is_integer():
            continue
        k = reader.next_content(j, 1, {"stop"})
        said = []
        if reader.live(k) is not None and items[k].surface.lower() in DIFFERENT:
            said, k = [k], reader.next_content(k, 1, {"stop"})
        counted = reader.live(k)
        if counted is None or counted.kind != "dim":
            continue
        others = [x for x, other in enumerate(items) if x != k and other.kind == "dim" and other.value != counted.value]
        if not others or reader._clause_between(max(x for x in others if x < i) if any(x < i for x in others) else i, i):
            continue  # no group to count them in: 'how many items in more than 3 areas' is not this
        column = counted.value
        neg = reader.negated(i)
        final = item.value if neg is None else FLIP[item.value]
        distinct = exp.Count(this=exp.Distinct(expressions=[col(column)]))
        used = [i, j, *said, k] + ([neg] if neg is not None else [])
        reader.use(*used)
        value = int(number.value.value)
        reader.add(compare(final, distinct, lit(value)), min(used),
                   f"'{reader._words(used)}' read as groups with {WORDS.get(final, final)} {value} different "
                   f"{column.replace('_', ' ')} values (that count shown)", having=True,
                   show=(f"distinct_{column}_values", distinct.copy()))
