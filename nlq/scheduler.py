"""The sync scheduler (inside `vanguard serve`, or `vanguard worker`): write-back every few seconds,
syncs when due, and at once when another process asks (nlq/wake.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from store.pems.client import PemsClient, PemsSettings
from store.sync.schedule import Schedule, run_pass

log = logging.getLogger(__name__)


class SyncScheduler:
    """Runs `run_pass` in a worker thread every `tick_seconds` until cancelled."""

    def __init__(self, app_url: str, pems: PemsSettings, schedule: Schedule, tick_seconds: float = 5.0) -> None:
        self.app_url, self.pems, self.schedule, self.tick_seconds = app_url, pems, schedule, tick_seconds
        self.running = False
        self.passes = 0  # passes finished, failed ones included
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the next pass now instead of at the next tick (a manual trigger)."""
        self._wake.set()

    async def run(self) -> None:
        from nlq.wake import listen

        client = PemsClient(self.pems)
        listener = asyncio.create_task(listen(self.app_url, self.wake))
        try:
            while True:
                self.running = True
                try:
                    await asyncio.to_thread(run_pass, self.app_url, client, self.schedule)
                except Exception:  # one bad pass must not stop future syncs; it is logged with its cause
                    log.exception("sync pass failed")
                finally:
                    self.running = False
                    self.passes += 1
                # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancel that lands in the
                # same loop turn as a wake, and the lifespan then waits for this loop for ever
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.tick_seconds):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            client.close()
