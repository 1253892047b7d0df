"""In-process state that several API processes must agree on: each process's vocabulary caches (the
grounding one and the offline parser's) see another process's sync at their next question (they
are keyed by the organization's last finished sync or write-back run, read from PostgreSQL), not
after their own maximum age."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from nlq.ask.offline import OfflineProvider
from nlq.ask.vocabulary import VocabularyCache
from tests.api_fixtures import seed


def sync_in_another_process(url: str, category: str) -> None:
    """What a sync run of some other process leaves behind: a changed mirror and a finished run."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE vanguard.pfa_mirror SET data = jsonb_set(data, '{category}', to_jsonb(%s::text)) "
                     "WHERE organization_id = 'ORG_A' AND id = 'PFA-0000001'", (category,))
        conn.execute("INSERT INTO vanguard.sync_runs (organization_id, direction, kind, status, finished_at) "
                     "VALUES ('ORG_A', 'read', 'incremental', 'succeeded', clock_timestamp())")


async def test_a_sync_of_another_process_reaches_every_processs_vocabulary_cache(db):
    seed(db.app, records=20)
    async with AsyncConnectionPool(db.app, min_size=1, max_size=2, open=False) as first_pool, \
            AsyncConnectionPool(db.app, min_size=1, max_size=2, open=False) as second_pool:
        first, second = VocabularyCache(first_pool), VocabularyCache(second_pool)  # one per process
        for cache in (first, second):
            assert "Hovercraft" not in (await cache.for_user("ORG_A", 1)).columns["category"]
        sync_in_another_process(db.app, "Hovercraft")
        for cache in (first, second):  # well within MAX_AGE_SECONDS: only the version tells
            assert "Hovercraft" in (await cache.for_user("ORG_A", 1)).columns["category"]
        with psycopg.connect(db.app, autocommit=True) as conn:  # no run announces this one ...
            conn.execute("UPDATE vanguard.pfa_mirror SET data = jsonb_set(data, '{category}', '\"Zeppelin\"') "
                         "WHERE organization_id = 'ORG_A' AND id = 'PFA-0000002'")
        assert "Zeppelin" not in (await first.for_user("ORG_A", 1)).columns["category"]  # ... so it is cached


async def test_a_sync_of_another_process_reaches_every_processs_offline_parser(db):
    seed(db.app, records=20)
    async with AsyncConnectionPool(db.app, min_size=1, max_size=2, open=False) as first_pool, \
            AsyncConnectionPool(db.app, min_size=1, max_size=2, open=False) as second_pool:
        first, second = OfflineProvider(first_pool), OfflineProvider(second_pool)
        for provider in (first, second):
            assert "Hovercraft" not in (await provider.vocabulary("ORG_A"))["category"]
        sync_in_another_process(db.app, "Hovercraft")
        for provider in (first, second):
            assert "Hovercraft" in (await provider.vocabulary("ORG_A"))["category"]
