"""Fair share under load: another organization's simple question while one user fires heavy ones.

The app runs under uvicorn on loopback with an instant OpenAI-compatible server that answers a
"heavy" question with a self-join that runs until the statement timeout and any other question
with a small count. The simple question's time to `done` is measured idle, then while one user
keeps ten heavy questions in flight in the first organization.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx
import psycopg
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from nlq.app import create_app
from nlq.auth.passwords import hash_password
from nlq.bench import Result, p95
from nlq.bench.dataset import PASSWORD, Dataset
from nlq.config import Settings
from store import accounts
from store.pems.background import BackgroundServer

HEAVY = "SELECT count(*) AS pairs FROM pfa_merged a, pfa_merged b WHERE a.area <> b.class"
SIMPLE = "SELECT count(*) AS cranes FROM pfa_merged WHERE category = 'Cranes' AND source = 'Rental'"
HEAVY_CLIENTS = 10
TARGET_RATIO = 2.0


def _llm() -> Starlette:
    async def completions(request):
        body = await request.json()
        if body.get("stream"):
            async def chunks():
                chunk = {"choices": [{"index": 0, "delta": {"content": "Counts."}, "finish_reason": None}],
                         "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                yield f"data: {json.dumps(chunk)}\n\n"
                yield "data: [DONE]\n\n"
            return StreamingResponse(chunks(), media_type="text/event-stream")
        question = body["messages"][-1]["content"]
        statement = HEAVY if "heavy pairs" in question else SIMPLE
        return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                             "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                 "role": "assistant", "content": json.dumps({"sql": statement})}}]})

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def _login(client: httpx.AsyncClient, username: str) -> dict:
    token = (await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _ask(client: httpx.AsyncClient, headers: dict, org: str, question: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = await client.post("/api/ai/query", json={"org_id": org, "question": question}, headers=headers)
    ending = "done" if "event: done" in response.text else "error"
    return (time.perf_counter() - started) * 1000, ending


async def _run(url: str, heavy_org: str, other_org: str, runs: int) -> tuple[list[float], list[float], dict]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        heavy_user, other_user = await _login(client, "bench"), await _login(client, "bench-other")
        for _ in range(3):
            await _ask(client, other_user, other_org, "how many rented cranes")
        idle = [(await _ask(client, other_user, other_org, "how many rented cranes"))[0] for _ in range(runs)]
        stop = asyncio.Event()
        endings: dict[str, int] = {}

        async def keep_firing() -> None:
            while not stop.is_set():
                _, ending = await _ask(client, heavy_user, heavy_org, "heavy pairs of records")
                endings[ending] = endings.get(ending, 0) + 1

        firing = [asyncio.create_task(keep_firing()) for _ in range(HEAVY_CLIENTS)]
        await asyncio.sleep(1.0)  # the heavy statements are running
        loaded = []
        for _ in range(runs):
            loaded.append((await _ask(client, other_user, other_org, "how many rented cranes"))[0])
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*firing)
    return idle, loaded, endings


def bench_fairshare(dataset: Dataset, runs: int = 30) -> list[Result]:
    if len(dataset.codes) < 2:
        return [Result("fair share (needs --orgs >= 2)", "ms", 0, 0, "-", None, "skipped: one organization")]
    with psycopg.connect(dataset.urls.app, autocommit=True) as conn:
        if accounts.find_user_by_username(conn, "bench-other") is None:
            other = accounts.insert_user(conn, "bench-other", hash_password(PASSWORD))
            accounts.upsert_membership(conn, other, dataset.codes[1], "viewer")
    with BackgroundServer(_llm()) as llm_url:
        app = create_app(Settings(llm_base_url=llm_url + "/v1", llm_api_key="bench", llm_model="m",
                                  sync_enabled=False, query_max_cost=1e15, query_max_estimated_rows=1e15,
                                  query_timeout_seconds=3), dataset.urls)
        web = BackgroundServer(app, lifespan="on")
        url = web.start()
        try:
            idle, loaded, endings = asyncio.run(_run(url, dataset.codes[0], dataset.codes[1], runs))
        finally:
            web.stop()
    idle_median, loaded_median = statistics.median(idle), statistics.median(loaded)
    ratio = loaded_median / idle_median
    note = (f"idle median {idle_median:.1f} ms; {HEAVY_CLIENTS} heavy questions of one user in flight "
            f"(answers: {', '.join(f'{k} {v}' for k, v in sorted(endings.items()))}); ratio {ratio:.2f}")
    return [Result("other organization's question, one user flooding", "ms", loaded_median, p95(loaded),
                   f"<= {TARGET_RATIO:g}x idle median", ratio <= TARGET_RATIO, note)]
