"""One question asked inside a conversation: what its prompts and the offline reader may know of
the earlier turns.

Only questions and the statements the model itself wrote: a turn's rows are kept for its user's
re-display (`store/conversations.py`) and have no field here, so no prompt can carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HISTORY_TURNS = 4  # the earlier turns a prompt carries: enough for a chain of refinements, bounded


@dataclass(frozen=True)
class EarlierTurn:
    """An answered turn as a prompt shows it: the question and the statement the model wrote
    (None when the offline reader answered it: its SQL holds the organization's own values)."""

    question: str
    sql: str | None


@dataclass
class Turn:
    conversation_id: str
    turn_id: int
    position: int
    earlier: tuple[EarlierTurn, ...] = field(default_factory=tuple)
    # The offline reader's own reading of the last answered turn (a follow-up refines it), and
    # where it records how it read this one.
    previous_reading: str | None = None
    reading: str | None = None


def prompt_context(turn: Turn | None) -> dict:
    """The template inputs of a conversation (`prompts/templates/_conversation.j2`)."""
    return {"earlier_turns": tuple(turn.earlier) if turn else ()}
