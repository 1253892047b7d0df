"""The values each organization stores in the merged view's text columns, kept in the service for
value grounding (`nlq/ask/grounding.py`) and never sent to any LLM.

Which columns: those whose values are names a person types (`GROUNDED_COLUMNS`): category,
class, area, manufacturer, model, and the domain-fixed source and dor. Not ids, tags, change
stamps or descriptions: their vocabularies are as large as the data (one per record or asset), a
close spelling there is a different record, and free text is searched, not named.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool

from store import queries
from store.fields import BY_COLUMN, FieldType

_RECORDS = queries.load("records")
_GROUNDING = queries.load("grounding")

STORED_COLUMNS = ("category", "class", "area", "manufacturer", "model")  # records.sql: vocabulary
FIXED_COLUMNS = tuple(c for c in ("source", "dor") if BY_COLUMN[c].allowed)  # store/fields.py: allowed
GROUNDED_COLUMNS = STORED_COLUMNS + FIXED_COLUMNS
DRAFT_KEYS = [BY_COLUMN[c].key for c in STORED_COLUMNS if BY_COLUMN[c].editable]
MAX_VALUES = 2000  # a column with more distinct values than this is too large to ground
MAX_AGE_SECONDS = 300.0  # a change that no sync run announces (a seed) is seen within this

assert all(BY_COLUMN[c].type is FieldType.TEXT for c in GROUNDED_COLUMNS)


@dataclass(frozen=True)
class Vocabulary:
    """One caller's values per grounded column (the organization's, plus the caller's drafts)."""

    organization_id: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def values(self, column: str) -> tuple[str, ...] | None:
        """The column's values, or None when the column is not grounded (or too large to be)."""
        values = self.columns.get(column)
        return values if values is not None and len(values) <= MAX_VALUES else None


@dataclass
class _Cached:
    version: object
    loaded_at: float
    columns: dict[str, tuple[str, ...]]


class VocabularyCache:
    """Per-organization stored values, reloaded when a sync or write-back run has finished since
    the last load (one indexed look at the recent sync runs per question) or after MAX_AGE_SECONDS.
    The caller's own draft values are read fresh each time: a draft saved a moment ago counts."""

    def __init__(self, pool: AsyncConnectionPool, max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        self.pool = pool
        self.max_age_seconds = max_age_seconds
        self._cached: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def invalidate(self, org_id: str | None = None) -> None:
        """Forget one organization's values (or all): the next question reloads them."""
        if org_id is None:
            self._cached.clear()
        else:
            self._cached.pop(org_id, None)

    async def for_user(self, org_id: str, user_id: int) -> Vocabulary:
        """The values `user_id` can see in `org_id`'s merged view, per grounded column."""
        async with self._lock(org_id), self.pool.connection() as conn:
            cached = await self._stored(conn, org_id)
            drafts = await (await conn.execute(_GROUNDING["draft_vocabulary"],
                                               {"org": org_id, "user_id": user_id, "keys": DRAFT_KEYS})).fetchall()
        columns = dict(cached.columns)
        for key, value in drafts:
            column = next(c for c in STORED_COLUMNS if BY_COLUMN[c].key == key)
            if value not in columns.get(column, ()):
                columns[column] = (*columns.get(column, ()), value)
        return Vocabulary(org_id, columns)

    async def stored(self, org_id: str) -> dict[str, tuple[str, ...]]:
        """The organization's stored values per grounded column, without any user's drafts."""
        async with self._lock(org_id), self.pool.connection() as conn:
            return dict((await self._stored(conn, org_id)).columns)

    def _lock(self, org_id: str) -> asyncio.Lock:
        return self._locks.setdefault(org_id, asyncio.Lock())

    async def _stored(self, conn, org_id: str) -> _Cached:
        """The cached stored values, reloaded when stale (the caller holds the organization's lock)."""
        version = (await (await conn.execute(_GROUNDING["vocabulary_version"], {"org": org_id})).fetchone())[0]
        cached = self._cached.get(org_id)
        if (cached is None or cached.version != version
                or time.monotonic() - cached.loaded_at > self.max_age_seconds):
            rows = await (await conn.execute(_RECORDS["vocabulary"], {"org": org_id})).fetchall()
            cached = _Cached(version, time.monotonic(), _columns(rows))
            self._cached[org_id] = cached
        return cached


def _columns(rows) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {c: [] for c in STORED_COLUMNS}
    for kind, value in rows:
        if kind in found and value:
            found[kind].append(value)
    columns = {c: tuple(sorted(v)) for c, v in found.items()}
    for column in FIXED_COLUMNS:
        columns[column] = tuple(BY_COLUMN[column].allowed)
    return columns
