"""Fair share: slots per user and per organization, a short queue, then `busy`."""

from __future__ import annotations

import asyncio

import pytest

from nlq.ask.fairshare import Busy, FairShare, ShareLimits


async def _hold(share: FairShare, org: str, user: int, release: asyncio.Event, started: asyncio.Event | None = None):
    async with share.slot(org, user):
        if started is not None:
            started.set()
        await release.wait()


async def test_a_user_beyond_their_share_waits_then_gets_busy_while_another_user_runs():
    share = FairShare(ShareLimits(per_user=2, per_organization=4, wait_seconds=0.2))
    release = asyncio.Event()
    holders = [asyncio.create_task(_hold(share, "A", 1, release)) for _ in range(2)]
    await asyncio.sleep(0.05)
    assert share.running("A", 1) == (2, 2)
    with pytest.raises(Busy) as err:
        async with share.slot("A", 1):
            pass
    assert err.value.code == "busy" and "2 per user" in err.value.message
    async with share.slot("A", 2):  # another user of the same organization still gets a slot
        assert share.running("A", 2) == (1, 3)
    release.set()
    await asyncio.gather(*holders)
    assert share.running("A", 1) == (0, 0)


async def test_an_organization_beyond_its_share_gets_busy_but_other_organizations_do_not():
    share = FairShare(ShareLimits(per_user=2, per_organization=3, wait_seconds=0.1))
    release = asyncio.Event()
    holders = [asyncio.create_task(_hold(share, "A", user, release)) for user in (1, 2, 3)]
    await asyncio.sleep(0.05)
    with pytest.raises(Busy):
        async with share.slot("A", 4):
            pass
    async with share.slot("B", 5):
        pass
    release.set()
    await asyncio.gather(*holders)


async def test_a_queued_statement_runs_as_soon_as_a_slot_frees():
    share = FairShare(ShareLimits(per_user=1, per_organization=4, wait_seconds=2.0))
    release, started = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(share, "A", 1, release, started))
    await started.wait()
    asyncio.get_running_loop().call_later(0.1, release.set)
    loop = asyncio.get_running_loop()
    begun = loop.time()
    async with share.slot("A", 1):
        waited = loop.time() - begun
    assert 0.05 < waited < 1.5
    await holder


async def test_a_cancelled_holder_gives_its_slot_back():
    share = FairShare(ShareLimits(per_user=1, per_organization=1, wait_seconds=0.1))
    release, started = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(share, "A", 1, release, started))
    await started.wait()
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    async with share.slot("A", 1):
        assert share.running("A", 1) == (1, 1)


async def test_a_waiter_cancelled_as_a_slot_frees_ends_cancelled_and_holds_nothing():
    # a client that disconnects in the loop turn its slot frees up must not be handed the slot
    share = FairShare(ShareLimits(per_user=1, per_organization=1, wait_seconds=5))
    ran = []
    held = share.slot("A", 1)
    await held.__aenter__()

    async def waiter():
        async with share.slot("A", 1):
            ran.append(True)
            await asyncio.sleep(3600)

    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.05)
    await held.__aexit__(None, None, None)  # frees the slot and notifies, without yielding
    waiting.cancel()
    done, _ = await asyncio.wait({waiting}, timeout=5)
    assert waiting in done and waiting.cancelled() and not ran
    assert share.running("A", 1) == (0, 0)
