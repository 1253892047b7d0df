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
from openai import AsyncOpenAI

from nlq.errors import NlqError
from prompts.render import Prompt

MAX_SQL_CHARS = 20_000
_FENCE = re.compile(r"```(?P<lang>[A-Za-z]*)\s*\n?(?P<body>.*?)```", re.DOTALL)


class LlmUnavailable(NlqError):
    """The language model could not be reached or refused to answer."""

    code = "llm_unavailable"
    status_code = 503


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

    def __init__(self, base_url: str | None, api_key: str | None, model: str, *, timeout_seconds: float = 30.0,
                 max_retries: int = 2) -> None:
        self.model = model
        self.client = AsyncOpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout_seconds,
                                  max_retries=max_retries)
        self._json_mode = True

    async def close(self) -> None:
        await self.client.close()

    async def generate(self, prompt: Prompt, **_context) -> LlmReply:
        """One statement for the prompt (retries on 429 / 5xx / timeouts are the client's)."""
        text = await self._complete(prompt)
        sql, explanation = parse_reply(text)
        return LlmReply(sql=sql, explanation=explanation, raw=text)

    async def complete_text(self, prompt: Prompt) -> str:
        """The model's raw answer (a bulk plan is read by its own strict parser)."""
        return await self._complete(prompt)

    async def _complete(self, prompt: Prompt) -> str:
        options = {"response_format": {"type": "json_object"}} if self._json_mode else {}
        try:
            response = await self.client.chat.completions.create(
                model=self.model, messages=prompt.messages(), temperature=0, **options)
        except openai.BadRequestError:
            if not self._json_mode:
                raise LlmUnavailable("The model endpoint refused the request.") from None
            self._json_mode = False  # some servers do not know response_format; ask in plain text
            return await self._complete(prompt)
        except openai.APIError as exc:
            raise LlmUnavailable(f"The model endpoint failed: {type(exc).__name__}.") from None
        if not response.choices:
            raise LlmBadOutput("The model returned no answer.")
        return response.choices[0].message.content or ""

    async def stream_explanation(self, prompt: Prompt) -> AsyncIterator[str]:
        """Explanation text as the model writes it."""
        try:
            stream = await self.client.chat.completions.create(
                model=self.model, messages=prompt.messages(), temperature=0, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APIError as exc:
            raise LlmUnavailable(f"The model endpoint failed: {type(exc).__name__}.") from None
