"""The service's audit sealer: seals ledger entries moments after they are committed.

The chain trigger notifies `vanguard_audit` at commit; the sealer listens, and also looks every
few seconds (a notification sent while it was reconnecting is not lost work, only later work).
Sealing itself is synchronous psycopg in a worker thread (`store.audit_seal.seal_pending`), one
sealer connection per process; sealers of several processes take turns under an advisory lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg
from psycopg import sql

from store.audit_seal import seal_pending

log = logging.getLogger(__name__)
CHANNEL = "vanguard_audit"


class AuditSealer:
    def __init__(self, app_url: str, key: bytes, poll_seconds: float = 5.0) -> None:
        self.app_url = app_url
        self.key = key
        self.poll_seconds = poll_seconds
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    async def run(self) -> None:
        """Seal on every notification and every `poll_seconds`, until cancelled."""
        while True:
            try:
                listener = await psycopg.AsyncConnection.connect(self.app_url, autocommit=True)
                async with listener:
                    await listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    while True:
                        await self.seal()
                        async for _ in listener.notifies(timeout=self.poll_seconds, stop_after=1):
                            pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarting must not end sealing for good
                log.warning("audit sealer: %s; retrying in %.0f s", exc, self.poll_seconds)
                await asyncio.sleep(self.poll_seconds)

    async def seal(self) -> int:
        return await asyncio.to_thread(self._seal)

    def _seal(self) -> int:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.app_url, autocommit=True)
                return seal_pending(self._conn, self.key)
            except psycopg.Error:
                self.close_connection()
                raise

    def close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def stop(self, task: asyncio.Task) -> None:
        """Cancel the listener, seal what the last requests wrote, release the connection."""
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        try:
            await self.seal()
        except psycopg.Error as exc:
            log.warning("audit sealer: final seal failed: %s", exc)
        finally:
            await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            self.close_connection()
