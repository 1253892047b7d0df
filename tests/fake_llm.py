"""A real OpenAI-compatible HTTP server for tests: scripted answers, streaming, errors, delays
(before the answer or between streamed chunks), a record of every request it received (to prove no
row data was ever sent) and of every client that hung up while it was still answering; and an
endpoint that never accepts a connection."""

from __future__ import annotations

import asyncio
import json
import socket
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
    delay: float = 0.0  # before the response starts (a model still reading the prompt)
    chunks: list[str] | None = None  # for stream=True
    chunk_delay: float = 0.0  # before each streamed chunk (headers go out at once)


@dataclass
class FakeLlm:
    script: deque = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    hung_up: list[int] = field(default_factory=list)  # indexes of requests whose client left mid-answer
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
            index = len(self.requests) - 1
            item = self.script.popleft() if self.script else self._respond(body)
            if item.delay and await self._wait_unless_hung_up(request, item.delay):
                self.hung_up.append(index)
                return Response(status_code=499)
            if item.status != 200:
                return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}},
                                    status_code=item.status)
            if body.get("stream"):
                return StreamingResponse(self._stream(body, item, index), media_type="text/event-stream")
            return JSONResponse({
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": item.content}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])

    async def _wait_unless_hung_up(self, request: Request, seconds: float) -> bool:
        """Sleep `seconds`, or until the client hangs up (True)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                return True
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return False

    async def _stream(self, body: dict, item: Scripted, index: int):
        try:
            for piece in item.chunks or [item.content]:
                if item.chunk_delay:
                    await asyncio.sleep(item.chunk_delay)
                chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": body.get("model", "test"),
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"
        except (asyncio.CancelledError, OSError):
            self.hung_up.append(index)  # the client closed the stream while chunks were still due
            raise

    def _respond(self, body: dict) -> Scripted:
        answer = self.responder(body) if self.responder else None
        if answer is None:
            return self.default
        return answer if isinstance(answer, Scripted) else Scripted(content=answer)


@pytest.fixture
def fake_llm():
    llm = FakeLlm()
    server = BackgroundServer(llm.app())
    llm.base_url = server.start() + "/v1"
    try:
        yield llm
    finally:
        server.stop()


@pytest.fixture
def unreachable_llm():
    """The base URL of an endpoint that never completes a connection (a listener whose backlog is
    full, so the kernel drops further SYNs): a connect timeout, not a refusal."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for sock in (*fillers, listener):
            sock.close()
