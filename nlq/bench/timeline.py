"""The timeline's first screen as `vanguard bench` measures it: the first page of bars (with the
organization's bounds) in each grouping, through HTTP and as the service's own statement."""

from __future__ import annotations

from nlq.records.query import ListQuery, list_statement

TARGETS = {"timeline_screen": 100.0}
FIRST_SCREEN = 100  # rows the page asks for at once (nlq/web/static/timeline.js, PAGE)


def timeline_reads(org: str, user: int) -> list[tuple]:
    """(name, target key, path suffix, statement, params) rows for `nlq.bench.api`'s read loop."""
    return [(f"timeline first screen by {group}", "timeline_screen",
             f"/timeline/bars?group={group}&limit={FIRST_SCREEN}",
             *list_statement(ListQuery(sort=group, limit=FIRST_SCREEN), org, user))
            for group in ("category", "area")]
