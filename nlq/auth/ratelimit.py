"""Login attempt limits per username and client address (in-process; one per API process)."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from nlq.errors import TooManyAttempts


class LoginLimiter:
    """At most `max_failures` failed logins per (username, address) in `window_seconds`."""

    def __init__(self, max_failures: int = 5, window_seconds: int = 300) -> None:
        self.max_failures, self.window_seconds = max_failures, window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        cutoff = time.monotonic() - self.window_seconds
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def check(self, username: str, address: str) -> None:
        failures = self._recent((username.lower(), address))
        if len(failures) >= self.max_failures:
            wait = int(failures[0] + self.window_seconds - time.monotonic()) + 1
            raise TooManyAttempts(f"Too many failed logins; try again in {wait} seconds.", retry_after_seconds=wait)

    def failed(self, username: str, address: str) -> None:
        self._recent((username.lower(), address)).append(time.monotonic())

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop((username.lower(), address), None)
