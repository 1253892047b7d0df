"""Named SQL queries, loaded once from the `.sql` files in `store/sql`.

A file holds blocks that each start with `-- name: <query_name>`; the name matches the Python
function that runs it. Placeholders are `%(param)s`; values are always bound, never formatted.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a file into its named blocks.

    >>> parse_queries("-- name: a\\nSELECT 1;\\n-- name: b\\nSELECT 2;")
    {'a': 'SELECT 1;', 'b': 'SELECT 2;'}
    """
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        if name in queries:
            raise ValueError(f"query {name!r} defined twice")
        queries[name] = body.strip()
    return queries


@cache
def load(file: str) -> dict[str, str]:
    """All named queries of `store/sql/<file>.sql`."""
    return parse_queries((resources.files("store") / "sql" / f"{file}.sql").read_text(encoding="utf-8"))
