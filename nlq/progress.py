"""Progress bars for long CLI work (tqdm), on stderr and only when stderr is a terminal.

Pipes, files and CI logs get the results alone; `--progress` forces the bars on (or
`--no-progress` off). Results are printed to stdout by the commands themselves, never here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from tqdm import tqdm

_forced: bool | None = None


def configure(force: bool | None) -> None:
    """`True`/`False` from --progress/--no-progress; None: bars when stderr is a terminal."""
    global _forced
    _forced = force


def enabled() -> bool:
    if _forced is not None:
        return _forced
    return sys.stderr.isatty()


def bar(description: str, total: int | None = None, unit: str = "records") -> tqdm:
    """A bar (a counter with a rate when the total is unknown) that disappears when closed."""
    return tqdm(total=total, desc=description, unit=f" {unit}", unit_scale=True, file=sys.stderr,
                disable=not enabled(), leave=False, dynamic_ncols=True, mininterval=0.25)


def track(items: Iterable, description: str, total: int | None = None, unit: str = "records") -> Iterator:
    """Yield `items`, counting them on a bar."""
    with bar(description, total, unit) as shown:
        for item in items:
            yield item
            shown.update()


def note(text: str) -> None:
    """A stage of the work without a count ("refreshing the KPIs ..."): on stderr when bars are on."""
    if enabled():
        tqdm.write(text, file=sys.stderr)


class Counter:
    """A callback that takes a running total (as the sync worker reports rows read) and shows it."""

    def __init__(self, description: str, unit: str = "records") -> None:
        self._bar = bar(description, None, unit)

    def __call__(self, total: int) -> None:
        self._bar.update(total - self._bar.n)

    def close(self) -> None:
        self._bar.close()


_open_counters: list[Counter] = []


def counter(description: str, unit: str = "records") -> Counter:
    """A Counter that `clear()` closes, for callers that print a result line when the work ends."""
    shown = Counter(description, unit)
    _open_counters.append(shown)
    return shown


def clear() -> None:
    """Close the open counters, so a result line printed next starts on a clean line."""
    while _open_counters:
        _open_counters.pop().close()
