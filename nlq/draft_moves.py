"""When to compact a user's draft moves (the rows triggers add to kpi_draft_delta and matrix_draft_delta).

Every save that moves money adds rows; a read sums them, so they are compacted into one row per
group once they have grown. "Grown" is counted from the last compaction (migration 0028): a user
whose compacted moves alone exceed the threshold would otherwise rewrite them on every read.
"""

from __future__ import annotations


async def compact_if_grown(conn, statements: dict, names: tuple[str, str, str], params: dict, after: int) -> bool:
    """Compact when more than `after` rows were added since the last compaction; True when it did.

    `names` are the statements counting the added rows, compacting, and recording the new count.
    The compaction commits on its own, before the read that follows, so that a slow read never
    holds the rows it rewrote.
    """
    added_rows, compact, record = names
    (added,) = await (await conn.execute(statements[added_rows], params)).fetchone()
    if added <= after:
        return False
    await conn.execute(statements[compact], params)
    await conn.execute(statements[record], params)
    await conn.commit()
    return True
