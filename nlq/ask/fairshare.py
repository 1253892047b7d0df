"""Fair share of the reader: a bound on concurrent NL statements per user and per organization.

Without it one viewer firing ten heavy questions takes every reader connection and every core,
and every other tenant's answer waits behind them. A statement waits briefly for a slot (a
queue, so a burst of a few still runs), then is refused with `busy` instead of queueing without
end. The counts live in this API process; each process of a deployment bounds its own share.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from nlq.errors import NlqError


class Busy(NlqError):
    """Too many of your questions are running at once; wait for one to finish and ask again."""

    code = "busy"
    status_code = 503


@dataclass(frozen=True)
class ShareLimits:
    per_user: int = 2
    per_organization: int = 4
    wait_seconds: float = 3.0


class FairShare:
    """Slots per user and per organization, handed out in arrival order as they free up."""

    def __init__(self, limits: ShareLimits = ShareLimits()) -> None:
        self.limits = limits
        self._users: Counter = Counter()
        self._orgs: Counter = Counter()
        self._changed = asyncio.Condition()

    def running(self, org_id: str, user_id: int | None = None) -> tuple[int, int]:
        """Statements running now for (this user, this organization)."""
        return self._users[user_id], self._orgs[org_id]

    def _free(self, org_id: str, user_id: int | None) -> bool:
        return self._users[user_id] < self.limits.per_user and self._orgs[org_id] < self.limits.per_organization

    @asynccontextmanager
    async def slot(self, org_id: str, user_id: int | None) -> AsyncIterator[None]:
        """Hold one slot of this user and organization for the duration of the block.

        Raises Busy when none frees up within `wait_seconds`.
        """
        async with self._changed:
            try:  # asyncio.timeout, not wait_for, which on 3.11 can drop a client's cancel here
                async with asyncio.timeout(self.limits.wait_seconds):
                    await self._changed.wait_for(lambda: self._free(org_id, user_id))
            except TimeoutError:
                raise Busy(details_for(self.limits)) from None
            self._users[user_id] += 1
            self._orgs[org_id] += 1
        try:
            yield
        finally:
            async with self._changed:
                self._users[user_id] -= 1
                self._orgs[org_id] -= 1
                if self._users[user_id] <= 0:
                    del self._users[user_id]
                if self._orgs[org_id] <= 0:
                    del self._orgs[org_id]
                self._changed.notify_all()


def details_for(limits: ShareLimits) -> str:
    return (f"Too many questions are running at once (at most {limits.per_user} per user and "
            f"{limits.per_organization} per organization); wait for one to finish and ask again.")
