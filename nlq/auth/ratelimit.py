"""Login attempt limits per username and per client address, counted in PostgreSQL.

Every API process shares the counts (they live in `vanguard.login_attempts`), and an attempt is
counted *before* its password is verified, in one atomic statement per key, so a burst of
parallel guesses cannot overtake the count. Per username: `user_free` attempts in a window, then
each further attempt must wait 2^k seconds after the previous one (2, 4, 8, ... up to
`max_delay_seconds`); attempts refused during a wait do not lengthen it, so a guesser slows the
real user down but never locks them out. A correct password clears the username's count. Per
address (password spraying: many usernames from one place): `address_free` failed attempts in a
window, then the same doubling delay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from nlq.errors import TooManyAttempts
from store import queries

_Q = queries.load("login_attempts")
PRUNE_EVERY_SECONDS = 60


@dataclass(frozen=True)
class LoginLimits:
    user_free: int = 5
    address_free: int = 20
    window_seconds: int = 900
    max_delay_seconds: int = 600

    def __post_init__(self) -> None:
        # A delay longer than the window would let the window reset while a key still waits.
        if not 0 < self.max_delay_seconds < self.window_seconds:
            raise ValueError("max_delay_seconds must be positive and shorter than window_seconds")


class LoginLimiter:
    def __init__(self, pool: AsyncConnectionPool, limits: LoginLimits = LoginLimits()) -> None:
        self.pool, self.limits = pool, limits
        self._pruned_at = 0.0

    def _params(self, kind: str, key: str) -> dict:
        free = self.limits.user_free if kind == "user" else self.limits.address_free
        return {"kind": kind, "key": key, "free": free, "window_seconds": self.limits.window_seconds,
                "max_delay_seconds": self.limits.max_delay_seconds}

    async def claim(self, username: str, address: str) -> None:
        """Count this attempt against the address and the username, or raise TooManyAttempts.

        Each count is its own short transaction (committed before argon2 runs). The address is
        counted first; an attempt its username then refuses is given back to the address.
        """
        user_key = username.lower()
        async with self.pool.connection() as conn:
            if time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:  # ended windows, now and then
                self._pruned_at = time.monotonic()
                async with conn.transaction():
                    await conn.execute(_Q["prune_login_attempts"], {"window_seconds": self.limits.window_seconds})
            async with conn.transaction():
                granted, wait = await (await conn.execute(_Q["claim_login_attempt"],
                                                          self._params("address", address))).fetchone()
            if not granted:
                raise _too_many("Too many failed logins from this address", wait, "address")
            async with conn.transaction():
                granted, wait = await (await conn.execute(_Q["claim_login_attempt"],
                                                          self._params("user", user_key))).fetchone()
            if not granted:
                async with conn.transaction():
                    await conn.execute(_Q["refund_login_attempt"], {"kind": "address", "key": address})
                raise _too_many("Too many failed logins for this username", wait, "username")

    async def succeeded(self, username: str, address: str) -> None:
        """The right password: the username starts afresh, and the address gets its attempt back."""
        async with self.pool.connection() as conn:
            await conn.execute(_Q["clear_login_attempts"], {"kind": "user", "key": username.lower()})
            await conn.execute(_Q["refund_login_attempt"], {"kind": "address", "key": address})


def _too_many(message: str, wait: int | None, limit: str) -> TooManyAttempts:
    seconds = max(1, wait or 1)
    return TooManyAttempts(f"{message}; try again in {seconds} second{'s' if seconds != 1 else ''}.",
                           retry_after_seconds=seconds, limit=limit)
