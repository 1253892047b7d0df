"""Conversations and their turns: each user's own, in one organization, never anyone else's.

Every query names the organization and the user beside the conversation id, so a conversation
of another user or organization is simply not found. A turn keeps the first rows of its answer
for its user to see again; `earlier_turns` reads only questions, readings and statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from store import queries

_Q = queries.load("conversations")
CONVERSATION_FIELDS = ("id", "title", "turn_count", "created_at", "updated_at")
TURN_FIELDS = ("id", "position", "question", "state", "audit_id", "reading", "executed_sql", "explanation",
               "summary", "columns", "rows", "rows_kept", "rows_cut", "error", "notes", "created_at",
               "finished_at")


@dataclass(frozen=True)
class Owner:
    org: str
    user: int

    def params(self, **more) -> dict:
        return {"org": self.org, "user": self.user, **more}


def _as_dict(fields: tuple[str, ...], row) -> dict | None:
    return dict(zip(fields, row)) if row is not None else None


async def create_conversation(conn: AsyncConnection, owner: Owner, title: str) -> dict:
    row = await (await conn.execute(_Q["create_conversation"], owner.params(title=title))).fetchone()
    return _as_dict(CONVERSATION_FIELDS, row)


async def get_conversation(conn: AsyncConnection, owner: Owner, conversation_id: str) -> dict | None:
    row = await (await conn.execute(_Q["get_conversation"], owner.params(conversation=conversation_id))).fetchone()
    return _as_dict(CONVERSATION_FIELDS, row)


async def list_conversations(conn: AsyncConnection, owner: Owner, *, limit: int, before: tuple | None = None) -> list[dict]:
    """Most recently used first; `before` is (updated_at, id) of the last one of the previous page."""
    before_at, before_id = before if before else (None, None)
    rows = await (await conn.execute(_Q["list_conversations"], owner.params(
        limit=limit, before_at=before_at, before_id=before_id))).fetchall()
    return [_as_dict(CONVERSATION_FIELDS + ("last_question",), row) for row in rows]


async def rename_conversation(conn: AsyncConnection, owner: Owner, conversation_id: str, title: str) -> dict | None:
    row = await (await conn.execute(_Q["rename_conversation"], owner.params(
        conversation=conversation_id, title=title))).fetchone()
    return _as_dict(CONVERSATION_FIELDS, row)


async def delete_conversation(conn: AsyncConnection, owner: Owner, conversation_id: str) -> bool:
    """The conversation and its turns (stored rows included); audit entries stay, as the ledger does."""
    row = await (await conn.execute(_Q["delete_conversation"], owner.params(conversation=conversation_id))).fetchone()
    return row is not None


async def start_turn(conn: AsyncConnection, owner: Owner, conversation_id: str, question: str,
                     max_turns: int) -> tuple[int, int] | None:
    """(turn id, position) of a new running turn; None when the conversation is not the owner's
    or already holds `max_turns`."""
    row = await (await conn.execute(_Q["start_turn"], owner.params(
        conversation=conversation_id, question=question, max_turns=max_turns))).fetchone()
    return (row[0], row[1]) if row else None


async def earlier_turns(conn: AsyncConnection, conversation_id: str, position: int, limit: int) -> list[tuple]:
    """(question, prompt_sql, reading) of the last `limit` answered turns before `position`, oldest first."""
    rows = await (await conn.execute(_Q["earlier_turns"], {
        "conversation": conversation_id, "position": position, "limit": limit})).fetchall()
    return list(reversed(rows))


async def finish_turn(conn: AsyncConnection, org: str, turn_id: int, record: dict) -> None:
    """Store how the turn ended (`record`: state, audit_id, reading, executed_sql, explanation,
    summary, columns, rows, rows_kept, rows_cut, error, notes)."""
    values = dict(record)
    for name in ("summary", "columns", "rows", "error", "notes"):
        values[name] = Jsonb(values[name]) if values.get(name) is not None else None
    values["notes"] = values["notes"] or Jsonb([])
    await conn.execute(_Q["finish_turn"], {"org": org, "turn_id": turn_id, **values})


async def conversation_turns(conn: AsyncConnection, conversation_id: str) -> list[dict]:
    """Every turn, oldest first (call only after `get_conversation` found it for its owner)."""
    rows = await (await conn.execute(_Q["conversation_turns"], {"conversation": conversation_id})).fetchall()
    return [_as_dict(TURN_FIELDS, row) for row in rows]
