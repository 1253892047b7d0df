"""Values side by side: 'for each category, the rental and purchase forecast cost side by side'.

The values listed (of one column) become one column each, filtered to their records, instead of a
row each: one row per group with every value's figure beside the others. Only plain aggregates are
split; anything else leaves the 'side by side' unread, so the question declines naming it.
"""

from __future__ import annotations

import re

from sqlglot import exp

from nlq.ask.semantic.build import Query, col, lit
from nlq.ask.semantic.conditions import Reader

SPLITTABLE = (exp.Sum, exp.Count, exp.Avg, exp.Min, exp.Max)


def read_side_by_side(query: Query, reader: Reader) -> None:
    said = [i for i, x in enumerate(reader.items) if x.kind == "pivot" and not x.used]
    if not said or len(reader.vs) != 1:
        return
    column, values = reader.vs[0]
    keys = [alias for alias, _, _ in query.groups]
    if column not in keys or len(query.groups) < 2 or not query.selects or query.order or query.limit is not None \
            or not all(isinstance(e, SPLITTABLE) for _, e in query.selects) or query.having or query.peers:
        return
    query.groups = [g for g in query.groups if g[0] != column]
    # each group shows every value's figure, empty where it has none of its records
    reader.conditions = [c for c in reader.conditions if not (
        isinstance(c.expression, exp.In) and isinstance(c.expression.this, exp.Column) and c.expression.this.name == column)]
    split = []
    for alias, expression in query.selects:
        for value in values:
            name = f"{alias}_{re.sub(r'[^a-z0-9]+', '_', value.lower()).strip('_')}"
            split.append((name, exp.Filter(this=expression.copy(), expression=exp.Where(
                this=exp.EQ(this=col(column), expression=lit(value))))))
    query.selects = split
    reader.use(*said)
    reader.notes.append(f"'{reader.items[said[0]].surface}' read as one column for each {column} "
                        f"({', '.join(values)}), one row per {' and '.join(a for a, _, _ in query.groups)}")
