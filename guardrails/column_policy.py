"""Column policies: the view's columns a user may not read, whatever the statement says.

A policy is applied twice. Name resolution treats hidden columns as absent, so a statement that
names one is refused with `hidden_column` (a clear reason instead of empty output). And the
organization-scoped subquery that replaces every reference to the view projects only the visible
columns, so nothing the resolver might miss - `*`, a whole row, a JSON of the record - can reach a
hidden column: it is not in the relation the statement reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardrails.names import fold


@dataclass(frozen=True)
class ColumnPolicy:
    """`hidden`: column names of the view this user may not read; `why`: said when one is named."""

    hidden: frozenset[str] = frozenset()
    why: str = "hidden for your role"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", frozenset(fold(c) for c in self.hidden))

    def visible(self, view_columns: Iterable[str]) -> tuple[str, ...]:
        return tuple(c for c in view_columns if fold(c) not in self.hidden)

    def hides(self, name: str) -> bool:
        return name in self.hidden


OPEN = ColumnPolicy()
