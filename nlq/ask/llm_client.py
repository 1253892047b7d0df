"""Calling an OpenAI-compatible endpoint as a chat needs it: a short connect timeout, a deadline for
the first token and one for the whole answer, and failures that name the endpoint's host (never its
path, query, user or key: any of them may hold a secret).

Every call streams, so "the model has started answering" is observable: a local model that takes
40 s to write a long statement is fine once it has started; one that sends nothing for
`first_token` seconds is reported as not answering, instead of holding the user for minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import openai
from openai import AsyncOpenAI

from nlq.errors import NlqError

DEFAULT_BASE_URL = "https://api.openai.com/v1"  # what the openai package calls when none is set


class LlmUnavailable(NlqError):
    """The language model could not be reached or refused to answer."""

    code = "llm_unavailable"
    status_code = 503


@dataclass(frozen=True)
class LlmTimeouts:
    """Seconds: to open a connection, until the first streamed chunk, and for the whole answer."""

    connect: float = 3.0
    first_token: float = 20.0
    total: float = 60.0


def endpoint_host(base_url: str | None) -> str:
    """`host:port` of an endpoint, the only part of its URL a message may show.

    >>> endpoint_host("https://user:pw@llm.example.com/v1/deployments/k-123?api-key=abc")
    'llm.example.com:443'
    >>> endpoint_host("http://127.0.0.1:11434/v1"), endpoint_host(None)
    ('127.0.0.1:11434', 'api.openai.com:443')
    """
    parts = urlsplit(base_url or DEFAULT_BASE_URL)
    host = parts.hostname or "unknown-host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def build_client(base_url: str | None, api_key: str | None, timeouts: LlmTimeouts, max_retries: int) -> AsyncOpenAI:
    """The `openai` client with httpx timeouts under our own deadlines: connect as configured; a
    read may wait a little longer than the first-token deadline, which therefore fires first."""
    timeout = httpx.Timeout(timeouts.total, connect=timeouts.connect, read=timeouts.first_token + 1)
    return AsyncOpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=max_retries)


async def _within(deadline: float, awaitable, failure: LlmUnavailable):
    try:
        async with asyncio.timeout_at(deadline):
            return await awaitable
    except TimeoutError:
        raise failure from None


def _failure(host: str, exc: Exception, timeouts: LlmTimeouts) -> LlmUnavailable:
    """A message a user can act on: which host, and what went wrong (never the exception's text,
    which can quote the URL)."""
    if isinstance(exc, (openai.APITimeoutError, httpx.ConnectTimeout)):
        return LlmUnavailable(f"The language model at {host} cannot be reached: no connection within "
                              f"{timeouts.connect:g} s.", host=host, reason="unreachable")
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        return LlmUnavailable(f"The language model at {host} cannot be reached: the connection failed.",
                              host=host, reason="unreachable")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        what = {401: "refused the API key", 403: "refused the API key", 404: "does not know this path or model",
                429: "is rate-limiting requests"}.get(status, "failed")
        return LlmUnavailable(f"The language model at {host} {what} (HTTP {status}).", host=host,
                              reason=f"http_{status}")
    return LlmUnavailable(f"The language model at {host} failed: {type(exc).__name__}.", host=host, reason="failed")


async def stream_chat(client: AsyncOpenAI, host: str, timeouts: LlmTimeouts, **request) -> AsyncIterator[str]:
    """The answer's text as the endpoint streams it.

    Raises LlmUnavailable naming `host` when it cannot be reached, fails, sends nothing within
    `first_token` seconds, or has not finished within `total`; `openai.BadRequestError` passes
    through for the caller (a server that does not know an option). A caller that stops (the user
    went away) closes the HTTP response, so the endpoint stops generating too.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    first_deadline = started + timeouts.first_token
    total_deadline = started + timeouts.total
    silent = LlmUnavailable(f"The language model at {host} did not start answering within "
                            f"{timeouts.first_token:g} s.", host=host, reason="first_token_timeout")
    slow = LlmUnavailable(f"The language model at {host} did not finish answering within {timeouts.total:g} s.",
                          host=host, reason="timeout")
    try:
        stream = await _within(first_deadline, client.chat.completions.create(stream=True, **request), silent)
    except (openai.BadRequestError, LlmUnavailable):
        raise
    except (openai.APIError, httpx.HTTPError) as exc:
        raise _failure(host, exc, timeouts) from None
    async with aclosing(_pieces(stream, first_deadline, total_deadline, silent, slow, host, timeouts)) as pieces:
        async for piece in pieces:
            yield piece


async def _pieces(stream, first_deadline: float, total_deadline: float, silent: LlmUnavailable,
                  slow: LlmUnavailable, host: str, timeouts: LlmTimeouts) -> AsyncIterator[str]:
    chunks = stream.__aiter__()
    started = False
    try:
        while True:
            try:
                chunk = await _within(total_deadline if started else first_deadline, chunks.__anext__(),
                                      slow if started else silent)
            except StopAsyncIteration:
                return
            except LlmUnavailable:
                raise
            except (openai.APIError, httpx.HTTPError) as exc:
                raise _failure(host, exc, timeouts) from None
            started = True
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
    finally:
        await stream.close()


async def complete_chat(client: AsyncOpenAI, host: str, timeouts: LlmTimeouts, **request) -> str:
    """The whole answer's text (streamed under the same deadlines)."""
    return "".join([piece async for piece in stream_chat(client, host, timeouts, **request)])
