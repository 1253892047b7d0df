"""A real OpenAI-compatible HTTP server for tests: scripted answers, streaming, errors, delays
(before the answer or between streamed chunks), a record of every request it received (to prove no
row data was ever sent) and of every client that hung up while it was still answering; and an
endpoint that never accepts a connection."""

from __future__ import annotations

import asyncio
import json
import re
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


_QUESTION = re.compile(r"^Question: (?P<q>.+)$", re.MULTILINE)
_EARLIER_SQL = re.compile(r"^  Statement: (?P<sql>.+)$", re.MULTILINE)


def is_explanation(body: dict) -> bool:
    """Whether a request asks to explain a statement (every call streams; the system prompt tells)."""
    return body["messages"][0]["content"].lstrip().startswith("You explain SQL")


@dataclass
class FollowUpModel:
    """A small model for conversation tests: it answers the questions in `answers`, and refines
    the last earlier statement its prompt carries for the follow-ups it knows. Without that
    statement in the prompt it cannot answer a follow-up (it says so with a statement that reads
    no records), so a test that gets the right rows proves the prompt carried the conversation.

    Follow-ups: "and for purchases?" / "and for rentals?", "only <area>", "sort by cost",
    "as a chart by month". Explanations are a fixed sentence.
    """

    answers: dict[str, str] = field(default_factory=dict)

    def __call__(self, body: dict) -> str:
        if is_explanation(body):
            return "Explains the statement."
        prompt = body["messages"][-1]["content"]
        question = _QUESTION.findall(prompt)[-1].strip()
        if question in self.answers:
            return json.dumps({"sql": self.answers[question], "explanation": "Answers the question."})
        earlier = _EARLIER_SQL.findall(prompt)
        if not earlier:
            return json.dumps({"sql": "SELECT 'no earlier statement' AS answer", "explanation": "No context."})
        return json.dumps({"sql": refine(earlier[-1], question), "explanation": "Refines the last statement."})


def refine(sql: str, question: str) -> str:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="postgres")
    text = question.lower().rstrip("?").strip()
    if text in ("and for purchases", "and for rentals"):
        wanted = "Purchase" if "purchases" in text else "Rental"
        for literal in tree.find_all(exp.Literal):
            if literal.is_string and literal.this in ("Rental", "Purchase"):
                literal.replace(exp.Literal.string(wanted))
    elif text.startswith("only "):
        area = question.strip().rstrip("?")[5:].strip()
        tree = tree.where(exp.EQ(this=exp.column("area"), expression=exp.Literal.string(area)))
    elif text == "sort by cost":
        tree = tree.order_by("sum(forecast_cost) DESC", "1", append=False) if tree.args.get("group") else \
            tree.order_by("forecast_cost DESC", "id", append=False)
    elif text == "as a chart by month":
        month = "CAST(date_trunc('month', forecast_start) AS date)"
        tree.set("expressions", [sqlglot.parse_one(f"{month} AS month", read="postgres")]
                 + [e for e in tree.expressions if e.find(exp.AggFunc)])
        tree = tree.group_by(month, append=False).order_by("1", append=False)
    else:
        return "SELECT 'unknown follow-up' AS answer"
    return tree.sql(dialect="postgres")


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
