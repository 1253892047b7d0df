"""The statement as the planner inlines it stays small.

The planner copies a CTE's or derived table's expression into every place its column is used, so
`c1 AS (SELECT x + x AS x FROM c0)`, repeated twenty times, is a million-node expression built
while planning (gigabytes before any budget can be judged), and `ARRAY[a, a, ...]` or `(a, a)` a
value that doubles at each level. Counting nodes with every such column replaced by what defines
it bounds both: planning work and the size of what any allowed statement can build.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardrails.errors import GuardrailError, TooComplex
from guardrails.statement import Statement

MAX_INLINED_NODES = 20_000


def bound_inlined_size(statement: Statement) -> Iterator[GuardrailError]:
    size = statement.resolver.weight(statement.ast)
    if size > MAX_INLINED_NODES:
        shown = f"{size:,}" if size < 10**9 else "more than a billion"
        yield TooComplex(f"with its CTEs and subqueries written out the statement has {shown} parts; the limit "
                         f"is {MAX_INLINED_NODES:,} (use each computed column fewer times)")
