"""The sync scheduler stops when its lifespan ends, even when a manual trigger lands at that moment."""

from __future__ import annotations

import asyncio

import pytest

from nlq.config import Settings
from nlq.scheduler import SyncScheduler
from tests.api_fixtures import seed


async def _idle(scheduler: SyncScheduler) -> None:
    """Until the first pass has run and the scheduler waits for its next tick or a wake."""
    for _ in range(300):
        await asyncio.sleep(0.05)
        if scheduler.passes >= 1 and not scheduler.running:
            return
    raise AssertionError("the scheduler's first pass did not finish")


@pytest.fixture
def scheduler(db, pems_factory) -> SyncScheduler:
    """A scheduler over a seeded database and a PEMS with the same records, ticking once an hour."""
    pems = pems_factory(["ORG_A", "ORG_B"], 200)
    seed(db.app)
    return SyncScheduler(db.app, pems.client().settings, Settings(sync_interval_minutes=60).schedule(),
                         tick_seconds=3600)


async def test_a_wake_at_the_moment_of_shutdown_does_not_keep_the_scheduler_running(scheduler):
    # asyncio.wait_for on Python 3.11 returns the inner result when the cancel and the result land
    # in the same loop turn, so the cancel was lost and the lifespan waited for ever (a hang seen
    # when the last request of a test was a manual sync trigger)
    task = asyncio.create_task(scheduler.run())
    await _idle(scheduler)
    scheduler.wake()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert task in done and task.cancelled()
    assert scheduler.passes == 1  # the wake did not start another pass after the cancel


async def test_a_wake_runs_the_next_pass_at_once(scheduler):
    task = asyncio.create_task(scheduler.run())
    try:
        await _idle(scheduler)
        scheduler.wake()
        for _ in range(300):
            await asyncio.sleep(0.05)
            if scheduler.passes >= 2 and not scheduler.running:
                break
        assert scheduler.passes == 2  # woken well before its hour-long tick
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=10)
    assert task.cancelled()
