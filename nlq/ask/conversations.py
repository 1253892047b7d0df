"""Questions inside a conversation: open a turn, stream the answer, keep what it showed.

The answer itself is `stream_answer`'s; this module only starts a turn (a new conversation when
none is named), gives the answer the conversation's earlier questions and statements, and
stores what the user saw (the first rows, bounded) so a reopened conversation redraws it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator

from psycopg_pool import AsyncConnectionPool

from nlq.ask.service import AskDeps, stream_answer
from nlq.ask.turns import HISTORY_TURNS, EarlierTurn, Turn
from nlq.db import jsonable
from nlq.errors import Conflict, NotFound
from store import conversations as store
from store.conversations import Owner

MAX_TURNS = 200            # per conversation; then the user starts a new one
STORED_ROWS = 200          # rows of an answer kept for its user's re-display
STORED_ROW_BYTES = 256 * 1024
STORED_TEXT_CHARS = 20_000
STORED_NOTE_BYTES = 64 * 1024
TITLE_CHARS = 120
# Events that are drawn from the turn's own fields; any other (grounding, clarify, ...) is kept
# as a note and replayed as it came.
_OWN_EVENTS = {"status", "sql", "explanation", "rows", "summary", "done", "error"}
log = logging.getLogger(__name__)


class ConversationNotFound(NotFound):
    """There is no such conversation of yours in this organization."""


class ConversationFull(Conflict):
    """This conversation holds as many questions as it may; start a new one."""

    code = "conversation_full"


def title_of(question: str) -> str:
    """A conversation's first title: its first question on one line, cut short."""
    text = re.sub(r"\s+", " ", question).strip()
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1].rstrip() + "…"


async def open_turn(pool: AsyncConnectionPool, owner: Owner, question: str, conversation_id: str | None) -> tuple[Turn, dict]:
    """A running turn in the named conversation (or a new one) and the conversation.

    Raises `ConversationNotFound` for a conversation that is not the caller's in this
    organization, whoever owns it, and `ConversationFull` past `MAX_TURNS`.
    """
    async with pool.connection() as conn, conn.transaction():
        if conversation_id is None:
            conversation = await store.create_conversation(conn, owner, title_of(question))
            conversation["new"] = True
        else:
            conversation = await store.get_conversation(conn, owner, conversation_id)
            if conversation is None:
                raise ConversationNotFound()
            conversation["new"] = False
        started = await store.start_turn(conn, owner, conversation["id"], question, MAX_TURNS)
        if started is None:
            raise ConversationFull(f"This conversation already holds {MAX_TURNS} questions; start a new one.")
        turn_id, position = started
        earlier = await store.earlier_turns(conn, conversation["id"], position, HISTORY_TURNS)
    turn = Turn(conversation_id=conversation["id"], turn_id=turn_id, position=position,
                earlier=tuple(EarlierTurn(question=q, sql=sql) for q, sql, _ in earlier),
                previous_reading=(earlier[-1][2] or earlier[-1][0]) if earlier else None)
    return turn, conversation


async def stream_in_conversation(deps: AskDeps, owner: Owner, question: str, turn: Turn,
                                 conversation: dict, **options) -> AsyncIterator[dict]:
    """`stream_answer`'s events; the first one (a `status`) also carries `conversation`:
    {id, title, new, turn_id, position}. The turn is stored however the stream ends. `options`
    (bindings, sees_costs) go to `stream_answer` as they are."""
    record = TurnRecord()
    announced = False
    try:
        async with contextlib.aclosing(stream_answer(deps, owner.org, owner.user, question, turn, **options)) as events:
            async for item in events:
                record.observe(item["event"], item["data"])
                if not announced:
                    announced = True
                    item = _announce(item, turn, conversation)
                yield item
    finally:
        await asyncio.shield(_finish(deps.app_pool, owner.org, turn, record))


def _announce(item: dict, turn: Turn, conversation: dict) -> dict:
    data = dict(item["data"]) if isinstance(item["data"], dict) else {}
    data["conversation"] = {"id": turn.conversation_id, "title": conversation["title"],
                            "new": conversation["new"], "turn_id": turn.turn_id, "position": turn.position}
    return {"event": item["event"], "data": data}


async def _finish(pool: AsyncConnectionPool, org: str, turn: Turn, record: TurnRecord) -> None:
    try:
        async with pool.connection(timeout=30) as conn:
            await store.finish_turn(conn, org, turn.turn_id, record.values(turn.reading))
    except Exception:  # noqa: BLE001 - the answer was streamed; losing its copy must not break the stream
        log.exception("turn %s of conversation %s could not be stored", turn.turn_id, turn.conversation_id)


def _json(value):
    converted = jsonable(value)
    return converted if converted is not value else str(value)


class TurnRecord:
    """What the user was shown, as it streamed, within the stored bounds."""

    def __init__(self) -> None:
        self.state = "cancelled"
        self.audit_id = None
        self.executed_sql = None
        self.explanation: list[str] = []
        self.explanation_chars = 0
        self.summary = None
        self.columns = None
        self.rows: list = []
        self.row_bytes = 0
        self.rows_cut = False
        self.error = None
        self.notes: list[dict] = []
        self.note_bytes = 0

    def observe(self, name: str, data) -> None:
        if name == "sql":
            self.executed_sql = data.get("sql")
        elif name == "explanation":
            delta = str(data.get("delta") or "")[:max(0, STORED_TEXT_CHARS - self.explanation_chars)]
            self.explanation.append(delta)
            self.explanation_chars += len(delta)
        elif name == "rows":
            if "columns" in data:
                self.columns = list(data["columns"])
            self._keep_rows(data.get("rows") or [])
        elif name == "summary":
            self.state, self.audit_id = "answered", data.get("audit_id")
            self.summary = json.loads(json.dumps(data, default=_json))
        elif name == "error":
            self.state, self.audit_id = "failed", data.get("audit_id")
            self.error = {k: data.get(k) for k in ("code", "message", "reasons")}
        elif name not in _OWN_EVENTS:
            text = json.dumps(data, default=_json)
            if self.note_bytes + len(text) <= STORED_NOTE_BYTES:
                self.notes.append({"event": name, "data": json.loads(text)})
                self.note_bytes += len(text)

    def _keep_rows(self, rows: list) -> None:
        for row in rows:
            if self.rows_cut:
                return
            text = json.dumps(row, default=_json)
            if len(self.rows) >= STORED_ROWS or self.row_bytes + len(text) > STORED_ROW_BYTES:
                self.rows_cut = True
                return
            self.rows.append(json.loads(text))
            self.row_bytes += len(text)

    def values(self, reading: str | None) -> dict:
        answered = self.state == "answered"
        if answered and self.summary and self.summary.get("row_count", 0) > len(self.rows):
            self.rows_cut = True  # the answer itself had more rows than were kept
        return {"state": self.state, "audit_id": self.audit_id, "reading": reading if answered else None,
                "executed_sql": self.executed_sql, "explanation": "".join(self.explanation) or None,
                "summary": self.summary, "columns": self.columns,
                "rows": self.rows if self.columns is not None else None,
                "rows_kept": len(self.rows) if self.columns is not None else None,
                "rows_cut": self.rows_cut if self.columns is not None else None, "error": self.error,
                "notes": self.notes}


def replay_events(turn: dict) -> list[dict]:
    """The events that redraw a stored turn the way it was first drawn (its kept rows only)."""
    events: list[dict] = []
    if turn["executed_sql"]:
        events.append({"event": "sql", "data": {"sql": turn["executed_sql"]}})
    events.extend(turn["notes"] or [])
    if turn["explanation"]:
        events.append({"event": "explanation", "data": {"delta": turn["explanation"]}})
    if turn["columns"] is not None:
        events.append({"event": "rows", "data": {"columns": turn["columns"]}})
        if turn["rows"]:
            events.append({"event": "rows", "data": {"rows": turn["rows"]}})
    if turn["state"] == "answered":
        events.append({"event": "summary", "data": {**(turn["summary"] or {}), "rows_kept": turn["rows_kept"],
                                                    "rows_cut": bool(turn["rows_cut"])}})
        events.append({"event": "done", "data": {}})
    elif turn["state"] == "failed":
        events.append({"event": "error", "data": turn["error"] or {}})
    else:
        events.append({"event": "error", "data": {"code": turn["state"],
                                                  "message": "This question was not answered to the end."}})
    return events
