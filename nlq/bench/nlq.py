"""NL pipeline overhead on a large mirror: prompt, guardrails, EXPLAIN and the first rows, without LLM time.

A zero-latency OpenAI-compatible server answers instantly with a realistic statement; the app
runs under uvicorn on loopback and a real client reads the SSE stream. Overhead is the time to
the first `rows` event minus the time spent waiting for the model (both reported by the service).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from nlq.app import create_app
from nlq.bench import Result, p95
from nlq.bench.dataset import PASSWORD, Dataset
from nlq.config import Settings
from store.pems.background import BackgroundServer

TARGET_MS = 30.0
STATEMENT = ("SELECT category, count(*) AS n, sum(forecast_cost) AS cost FROM pfa_merged "
             "WHERE source = 'Rental' AND area = 'Silo 4' GROUP BY category ORDER BY cost DESC")


def _instant_llm() -> Starlette:
    async def completions(request):
        body = await request.json()
        if body.get("stream"):  # every call streams; the statement request is the one asking for JSON
            text = json.dumps({"sql": STATEMENT}) if body.get("response_format") else "Totals per category."

            async def chunks():
                chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
                         "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                yield f"data: {json.dumps(chunk)}\n\n"
                yield "data: [DONE]\n\n"
            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                             "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                 "role": "assistant", "content": json.dumps({"sql": STATEMENT, "explanation": "x"})}}]})

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def _measure(url: str, org: str, runs: int) -> list[float]:
    overheads = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        token = (await client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for i in range(runs + 5):
            started = time.perf_counter()
            first_rows, timings = None, None
            async with client.stream("POST", "/api/ai/query", json={"org_id": org, "question": "cost per category"},
                                     headers=headers) as response:
                event = None
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "rows" and first_rows is None:
                        first_rows = (time.perf_counter() - started) * 1000
                    elif line.startswith("data:") and event == "summary":
                        timings = json.loads(line.split(":", 1)[1])["timings"]
            if i >= 5:
                llm = timings.get("llm_ms", 0) + timings.get("explain_ms", 0)
                overheads.append(first_rows - llm)
    return overheads


def bench_nlq(dataset: Dataset, runs: int = 30) -> list[Result]:
    with BackgroundServer(_instant_llm()) as llm_url:
        app = create_app(Settings(llm_base_url=llm_url + "/v1", llm_api_key="bench", llm_model="m",
                                  sync_enabled=False), dataset.urls)
        web = BackgroundServer(app, lifespan="on")
        url = web.start()
        try:
            overheads = asyncio.run(_measure(url, dataset.org, runs))
        finally:
            web.stop()
    records = dataset.records_per_org * len(dataset.codes)
    median = statistics.median(overheads)
    return [Result(f"NL overhead to first rows ({records:,} records)", "ms", median, p95(overheads),
                   f"<= {TARGET_MS:g} ms median", median <= TARGET_MS,
                   "request -> first rows event, minus model time; zero-latency model server")]
