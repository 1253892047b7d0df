"""The offline provider: the deterministic semantic parser (`nlq/ask/semantic/`) as an LLM provider.

It runs in-process, so it may read the organization's own vocabulary (category, class, area,
manufacturer and model values) to recognise them in a question; it sends nothing anywhere. Its
SQL is built as a sqlglot tree and goes through the same guardrails as any model's. A question
it cannot read in full raises `NotUnderstood` (code `not_understood`): it declines, never guesses.
"""

from __future__ import annotations

import time
from datetime import date

from psycopg_pool import AsyncConnectionPool

from nlq.ask.followup import read_followup
from nlq.ask.providers import LlmReply, NotUnderstood
from nlq.ask.semantic import Vocabulary, parse_question
from nlq.ask.turns import Turn
from prompts.render import Prompt
from store import queries

__all__ = ["CannotAnswerOffline", "OfflineProvider", "parse_question"]

_Q = queries.load("records")
_GROUNDING = queries.load("grounding")
VOCABULARY_SECONDS = 300
CannotAnswerOffline = NotUnderstood  # the former name


class OfflineProvider:
    """Answers in-process, from the question and the organization's own vocabulary."""

    name = "offline"
    model = "offline-parser"

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self._vocabulary: dict[str, tuple[float, dict[str, list[str]], Vocabulary, object]] = {}

    async def _load(self, org_id: str) -> tuple[dict[str, list[str]], Vocabulary]:
        # Keyed by the organization's last finished sync or write-back run (read from PostgreSQL),
        # so a sync that any process ran is read at the next question, not after VOCABULARY_SECONDS.
        async with self.pool.connection() as conn:
            version = (await (await conn.execute(_GROUNDING["vocabulary_version"], {"org": org_id})).fetchone())[0]
            cached = self._vocabulary.get(org_id)
            if cached and cached[3] == version and time.monotonic() - cached[0] < VOCABULARY_SECONDS:
                return cached[1], cached[2]
            words: dict[str, list[str]] = {}
            for kind, value in await (await conn.execute(_Q["vocabulary"], {"org": org_id})).fetchall():
                words.setdefault(kind, []).append(value)
        index = Vocabulary.build(words)
        self._vocabulary[org_id] = (time.monotonic(), words, index, version)
        return words, index

    async def vocabulary(self, org_id: str) -> dict[str, list[str]]:
        return (await self._load(org_id))[0]

    async def index(self, org_id: str) -> Vocabulary:
        """The organization's values indexed for matching (built once per refresh)."""
        return (await self._load(org_id))[1]

    async def generate(self, prompt: Prompt, *, org_id: str, question: str, conversation: Turn | None = None) -> LlmReply:
        """In a conversation, a refinement of the previous reading ("only Silo 4") is read
        combined with it (`nlq/ask/followup.py`); the turn records the reading for the next one."""
        index, today = await self.index(org_id), date.today()

        def parse(text: str) -> tuple[str, str]:
            return parse_question(text, index, today)

        reading = read_followup(question, conversation.previous_reading if conversation else None, parse)
        sql, explanation = parse(reading.question)
        if conversation is not None:
            conversation.reading = reading.question
        if reading.how:
            explanation = f"{reading.how} {explanation}"
        return LlmReply(sql=sql, explanation=explanation, raw=sql)
