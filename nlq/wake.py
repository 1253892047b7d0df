"""Waking the sync scheduler from another process: PostgreSQL LISTEN/NOTIFY on one channel.

An API process that runs no scheduler of its own (one of `vanguard serve --workers N`, or
`serve --no-scheduler` beside `vanguard worker` processes) still has to say "a commit is waiting"
or "sync now"; the notification reaches every listening scheduler at once, and the claims decide
which of them does the work. Without a listener nothing is lost: the next tick finds the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from store.pems.client import PemsSettings

log = logging.getLogger(__name__)

CHANNEL = "vanguard_scheduler_wake"
RECONNECT_SECONDS = 2.0


async def listen(app_url: str, wake: Callable[[], None]) -> None:
    """Call `wake()` on every notification until cancelled; a lost connection is reopened."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(app_url, autocommit=True) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                async for _ in conn.notifies():
                    wake()
        except psycopg.OperationalError as exc:
            log.warning("scheduler wake-up listener lost its connection (%s); reconnecting", exc)
        await asyncio.sleep(RECONNECT_SECONDS)


class RemoteScheduler:
    """What an API process without a scheduler keeps in `app.state.scheduler`: `wake()` notifies
    the schedulers of other processes (a worker, or the parent of `serve --workers N`)."""

    running = False  # nothing runs here; the sync status reports the runs the database recorded

    def __init__(self, pool: AsyncConnectionPool, pems: PemsSettings) -> None:
        self.pool, self.pems = pool, pems
        self._sending: set[asyncio.Task] = set()

    def wake(self) -> None:
        task = asyncio.get_running_loop().create_task(self._notify())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _notify(self) -> None:
        try:
            async with self.pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
        except Exception:  # the tick finds the work anyway; a failed wake-up only delays it
            log.warning("could not wake the sync scheduler", exc_info=True)
