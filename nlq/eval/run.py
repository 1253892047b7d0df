"""Asking the real service: a throwaway database with the demo data, the app under uvicorn on
loopback, each question through POST /api/ai/query with its SSE stream read as a browser would."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool

from nlq.app import create_app
from nlq.progress import bar as progress_bar
from nlq.bench.dataset import fresh_database
from nlq.config import Settings
from nlq.errors import NlqError
from nlq.eval.demo import DEMO_ORGS, DEMO_RECORDS
from nlq.eval.gold import GoldRefused, run_gold
from nlq.eval.questions import Question
from nlq.eval.score import Answer, Table, score
from nlq.seed import seed_demo
from store import accounts
from store.database import DatabaseUrls
from store.pems.background import BackgroundServer
from store.reader import QueryError, reset_reader_connection

ANSWER_TIMEOUT_SECONDS = 300.0


class InvalidGold(NlqError):
    """Some gold statements of the set cannot be run."""

    code = "invalid_gold"


@dataclass(frozen=True)
class Service:
    url: str
    urls: DatabaseUrls
    org: str
    username: str
    user_id: int
    provider: str
    model: str | None


@dataclass
class Result:
    question: Question
    verdict: str
    diff: str
    answer: Answer
    gold: Table
    seconds: float
    mapping: dict = field(default_factory=dict)


@contextlib.contextmanager
def open_service(settings: Settings, org: str, username: str,
                 database: Callable[[], contextlib.AbstractContextManager[DatabaseUrls]] = fresh_database
                 ) -> Iterator[Service]:
    """The app on loopback over a new database seeded with the demo (organizations, records, users).

    `database` makes the (migrated, empty) database: by default a throwaway embedded server, as
    `vanguard bench` uses."""
    with database() as urls:
        with psycopg.connect(urls.app) as conn:
            seed_demo(conn, organizations=DEMO_ORGS, records=DEMO_RECORDS)
            user_id = accounts.find_user_by_username(conn, username)[0]
        app = create_app(settings, urls)
        server = BackgroundServer(app, lifespan="on")
        url = server.start()
        try:
            provider = app.state.ask.provider
            yield Service(url=url, urls=urls, org=org, username=username, user_id=user_id,
                          provider=getattr(provider, "name", type(provider).__name__),
                          model=getattr(provider, "model", None))
        finally:
            server.stop()


async def ask(client: httpx.AsyncClient, headers: dict, org: str, question: str) -> Answer:
    """One question through the API; the answer as the SSE stream told it."""
    answer = Answer()
    columns: list[str] = []
    rows: list[list] = []
    finished = False

    def handle(name: str | None, text: str) -> None:
        nonlocal columns, finished
        data = json.loads(text) if text else {}
        if name == "sql":
            answer.sql = data.get("sql")
        elif name == "rows":
            columns = data.get("columns", columns)
            rows.extend(data.get("rows", []))
        elif name == "summary":
            answer.table = Table(columns=columns, rows=rows, truncated=bool(data.get("truncated")))
            answer.timings = data.get("timings") or {}
            finished = True
        elif name == "clarify":  # value grounding asked which stored value was meant: nothing ran
            answer.error_code, answer.error_message = "clarify", data.get("message")
            finished = True
        elif name in ("error", "declined"):  # declined: the model says the records cannot answer
            answer.error_code = data.get("code") or "error"
            reasons = data.get("reasons") or []
            answer.error_message = (data.get("message") or "") + ("" if not reasons else " (" + "; ".join(map(str, reasons)) + ")")
            finished = True

    try:
        async with client.stream("POST", "/api/ai/query", json={"org_id": org, "question": question},
                                 headers=headers) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")
                try:
                    error = json.loads(body)["error"]
                    return Answer(error_code=error["code"], error_message=error.get("message"))
                except (ValueError, KeyError, TypeError):
                    return Answer(error_code=f"http_{response.status_code}", error_message=body[:300])
            name, data = None, []
            async for line in response.aiter_lines():
                if not line:
                    if name is not None or data:
                        handle(name, "\n".join(data))
                    name, data = None, []
                elif line.startswith(":"):
                    continue  # keep-alive comment
                else:
                    key, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if key == "event":
                        name = value
                    elif key == "data":
                        data.append(value)
            if name is not None or data:
                handle(name, "\n".join(data))
    except httpx.HTTPError as exc:
        return Answer(sql=answer.sql, error_code="http_error", error_message=f"{type(exc).__name__}: {exc}")
    if not finished:
        return Answer(sql=answer.sql, error_code="incomplete", error_message="the stream ended without a summary")
    return answer


async def evaluate(service: Service, questions: list[Question], password: str, settings: Settings,
                   progress: bool = False) -> list[Result]:
    """Gold rows for every question first (a set with a broken gold is refused before anything is
    asked), then each question asked and scored in turn."""
    limits = settings.execution_limits()
    golds: dict[str, Table] = {}
    async with AsyncConnectionPool(service.urls.reader, min_size=1, max_size=2, open=False, name="eval-gold",
                                   reset=reset_reader_connection) as pool:
        broken = []
        for q in questions:
            try:
                golds[q.id] = await run_gold(pool, q.gold_sql, org_id=service.org, user_id=service.user_id,
                                             limits=limits)
            except (GoldRefused, QueryError) as exc:
                broken.append(f"{q.id}: {exc.message}")
        if broken:
            raise InvalidGold("gold statements that cannot run:\n  " + "\n  ".join(broken))
    results = []
    timeout = httpx.Timeout(ANSWER_TIMEOUT_SECONDS, connect=10.0)
    async with httpx.AsyncClient(base_url=service.url, timeout=timeout) as client:
        login = await client.post("/api/auth/login", json={"username": service.username, "password": password})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        asked = progress_bar("  asking", total=len(questions), unit="questions") if progress else None
        for q in questions:
            started = time.perf_counter()
            answer = await ask(client, headers, service.org, q.question)
            seconds = time.perf_counter() - started
            verdict = score(golds[q.id], answer)
            results.append(Result(question=q, verdict=verdict.verdict, diff=verdict.diff, answer=answer,
                                  gold=golds[q.id], seconds=seconds, mapping=verdict.mapping))
            if asked is not None:
                asked.update()
        if asked is not None:
            asked.close()
    return results
