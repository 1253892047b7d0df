"""A real OpenAI-compatible HTTP server for tests: scripted answers, streaming, errors, delays,
and a record of every request it received (to prove no row data was ever sent)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from store.pems.background import BackgroundServer


@dataclass
class Scripted:
    content: str = ""
    status: int = 200
    delay: float = 0.0
    chunks: list[str] | None = None  # for stream=True


@dataclass
class FakeLlm:
    script: deque = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    default: Scripted = field(default_factory=lambda: Scripted(content='{"sql": "SELECT 1", "explanation": "x"}'))
    # Consulted when the script is empty: the answer to a request body, or None for the default.
    responder: Callable[[dict], Scripted | str | None] | None = None

    def answer(self, *items: Scripted | str) -> None:
        for item in items:
            self.script.append(item if isinstance(item, Scripted) else Scripted(content=item))

    def all_text(self) -> str:
        return json.dumps(self.requests)

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            item = self.script.popleft() if self.script else self._respond(body)
            if item.delay:
                await asyncio.sleep(item.delay)
            if item.status != 200:
                return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}},
                                    status_code=item.status)
            if body.get("stream"):
                return StreamingResponse(_stream(body, item), media_type="text/event-stream")
            return JSONResponse({
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": item.content}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])

    def _respond(self, body: dict) -> Scripted:
        answer = self.responder(body) if self.responder else None
        if answer is None:
            return self.default
        return answer if isinstance(answer, Scripted) else Scripted(content=answer)


async def _stream(body: dict, item: Scripted):
    for piece in item.chunks or [item.content]:
        chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": body.get("model", "test"),
                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


@pytest.fixture
def fake_llm():
    llm = FakeLlm()
    server = BackgroundServer(llm.app())
    llm.base_url = server.start() + "/v1"
    try:
        yield llm
    finally:
        server.stop()
