"""LLM providers: any OpenAI-compatible endpoint through the `openai` package.

A provider turns a rendered prompt into `{"sql", "explanation"}` and streams explanations. The
reply parser is tolerant (fenced, chatty or bare JSON, or a lone SQL block), and every failure
becomes one of two typed errors the pipeline reports as stable codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import openai

from nlq.ask.llm_client import LlmTimeouts, LlmUnavailable, build_client, complete_chat, endpoint_host, stream_chat
from nlq.errors import NlqError
from prompts.render import Prompt

__all__ = ["LlmBadOutput", "LlmDeclined", "LlmReply", "LlmUnavailable", "NotUnderstood", "OpenAIProvider",
           "parse_reply"]

MAX_SQL_CHARS = 20_000
MAX_DECLINE_CHARS = 500
_FENCE = re.compile(r"```(?P<lang>[A-Za-z]*)\s*\n?(?P<body>.*?)```", re.DOTALL)


class LlmBadOutput(NlqError):
    """The language model's answer could not be read as a statement."""

    code = "llm_bad_output"
    status_code = 502


class NotUnderstood(NlqError):
    """The offline parser could not read every word of the question, so it does not answer.

    Distinct from `llm_unavailable`: nothing is down; the question needs rephrasing (the
    message quotes the words left over and gives phrasings that work). Never repaired.
    """

    code = "not_understood"
    status_code = 422


class LlmDeclined(NlqError):
    """The model says the question cannot be answered from the equipment records.

    Its own reason is in `details["reason"]`. Not a failure and never a repair round: the answer
    is a polite `declined` event.
    """

    code = "declined"
    status_code = 422


@dataclass(frozen=True)
class LlmReply:
    sql: str
    explanation: str
    raw: str


def _from_json(text: str) -> tuple[str, str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("sql") is None and isinstance(value.get("decline"), str):
        reason = " ".join(value["decline"].split())[:MAX_DECLINE_CHARS]
        raise LlmDeclined("This question cannot be answered from the equipment records.", reason=reason)
    if isinstance(value, dict) and isinstance(value.get("sql"), str):
        explanation = value.get("explanation")
        return value["sql"], explanation if isinstance(explanation, str) else ""
    return None


def parse_reply(text: str) -> tuple[str, str]:
    """(sql, explanation) from a model's answer, however it was wrapped.

    >>> parse_reply('Sure! ```json\\n{"sql": "SELECT 1", "explanation": "one"}\\n```')
    ('SELECT 1', 'one')
    >>> parse_reply("Here you go:\\n```sql\\nSELECT 2\\n```")
    ('SELECT 2', 'Here you go:')

    A decline (`{"sql": null, "decline": "..."}`) raises LlmDeclined with the model's reason.
    """
    text = (text or "").strip()
    candidates = [text] + [m.group("body").strip() for m in _FENCE.finditer(text)]
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{"):text.rindex("}") + 1])
    for candidate in candidates:
        found = _from_json(candidate)
        if found:
            sql, explanation = found
            break
    else:
        blocks = [m for m in _FENCE.finditer(text) if m.group("lang").lower() in ("sql", "postgresql", "")]
        if not blocks:
            raise LlmBadOutput("The model did not answer with a statement.")
        sql = blocks[0].group("body").strip()
        explanation = _FENCE.sub("", text).strip()
    sql = sql.strip()
    if not sql:
        raise LlmBadOutput("The model answered with an empty statement.")
    if len(sql) > MAX_SQL_CHARS:
        raise LlmBadOutput(f"The model's statement is longer than {MAX_SQL_CHARS:,} characters.")
    return sql, explanation.strip()


class OpenAIProvider:
    """Chat completions against OpenAI, Azure, Ollama, vLLM, llama.cpp or anything compatible."""

    name = "openai"

    def __init__(self, base_url: str | None, api_key: str | None, model: str, *, timeout_seconds: float = 60.0,
                 connect_timeout_seconds: float = 3.0, first_token_seconds: float = 20.0, max_retries: int = 2) -> None:
        self.model = model
        self.host = endpoint_host(base_url)
        self.timeouts = LlmTimeouts(connect=connect_timeout_seconds, first_token=min(first_token_seconds, timeout_seconds),
                                    total=timeout_seconds)
        self.client = build_client(base_url, api_key, self.timeouts, max_retries)
        self._json_mode = True

    async def close(self) -> None:
        await self.client.close()

    async def generate(self, prompt: Prompt, **_context) -> LlmReply:
        """One statement for the prompt (retries on 429 / 5xx / connection errors are the client's,
        within the first-token deadline)."""
        text = await self._complete(prompt)
        sql, explanation = parse_reply(text)
        return LlmReply(sql=sql, explanation=explanation, raw=text)

    async def complete_text(self, prompt: Prompt) -> str:
        """The model's raw answer (a bulk plan is read by its own strict parser)."""
        return await self._complete(prompt)

    async def _complete(self, prompt: Prompt) -> str:
        options = {"response_format": {"type": "json_object"}} if self._json_mode else {}
        try:
            text = await complete_chat(self.client, self.host, self.timeouts, model=self.model,
                                       messages=prompt.messages(), temperature=0, **options)
        except openai.BadRequestError:
            if not self._json_mode:
                raise LlmUnavailable(f"The language model at {self.host} refused the request (HTTP 400).",
                                     host=self.host, reason="http_400") from None
            self._json_mode = False  # some servers do not know response_format; ask in plain text
            return await self._complete(prompt)
        return text

    async def stream_explanation(self, prompt: Prompt) -> AsyncIterator[str]:
        """Explanation text as the model writes it."""
        try:
            async for piece in stream_chat(self.client, self.host, self.timeouts, model=self.model,
                                           messages=prompt.messages(), temperature=0):
                yield piece
        except openai.BadRequestError:
            raise LlmUnavailable(f"The language model at {self.host} refused the request (HTTP 400).",
                                 host=self.host, reason="http_400") from None
