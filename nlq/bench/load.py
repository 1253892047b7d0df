"""The load run: many clients mixing page reads, draft saves and NL questions while syncs run.

Everything runs in its own process, as in production: the service (`vanguard serve`, one
uvicorn worker, offline LLM provider), the PEMS simulator, and back-to-back `vanguard sync --full`
runs of another organization, each after 1% of its records changed in PEMS. The clients run here, on one asyncio loop. Every non-2xx answer,
transport failure or SSE `error` event counts as an error; the target is none.

With `--workers N` the same mix runs twice, side by side: against one API process, then against
`serve --workers N --no-scheduler` beside one `vanguard worker`, with the CPU each process (and
PostgreSQL) used, which shows where the ceiling is when the machine's cores are the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import psutil
import psycopg

from nlq.bench import Result, p95
from nlq.bench.dataset import PASSWORD, Dataset
from nlq.bench.sync import free_port, start_simulator
from nlq.auth.passwords import hash_password
from store import accounts, demo_data

WEIGHTS = {"page": 60, "save": 30, "nl": 10}
CATEGORIES = ["Cranes", "Generators", "Vehicles", "Concrete", "Scaffolding", "Earthmoving"]
QUESTIONS = ["how many cranes are rented?", "total forecast cost by category", "count by source",
             "top 5 most expensive records", "average monthly rate of rentals", "how many rentals end in june 2026"]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # the first few error descriptions

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {what[:200]}")


def _environment(dataset: Dataset, sim_url: str) -> dict[str, str]:
    # The audit key is the caller's: without it the service would make a key file in the working directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANGUARD_") or k == "VANGUARD_AUDIT_KEY"}
    env.update(VANGUARD_DATABASE_URL=dataset.urls.admin, VANGUARD_DEMO="false", VANGUARD_PEMS_BASE_URL=sim_url,
               VANGUARD_PEMS_API_KEY="bench", VANGUARD_SYNC_ENABLED="false", VANGUARD_LLM_PROVIDER="offline",
               VANGUARD_LOG_LEVEL="warning")
    return env


def _start_service(env: dict[str, str], processes: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    more = ["--workers", str(processes), "--no-scheduler"] if processes > 1 else []
    proc = subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve", "--port", str(port), *more], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # N processes each import the app: minutes on a loaded machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code in (200, 503):
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the service did not start")


def _sync_loop(env: dict[str, str], sim_url: str, org: str, changes: int, stop: threading.Event,
               outcomes: list[int]) -> None:
    """Full syncs of `org`, back to back, each after PEMS changed `changes` records, until the load
    ends (each one's exit status kept)."""
    seed = 0
    while not stop.is_set():
        seed += 1
        httpx.post(f"{sim_url}/_control/change", json={"org": org, "count": changes, "seed": seed}, timeout=60)
        done = subprocess.run([sys.executable, "-m", "nlq.cli", "sync", "--org", org, "--full"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        outcomes.append(done.returncode)


async def _client(http: httpx.AsyncClient, token: str, org: str, records: int, seed: int, until: float,
                  tally: Tally) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while time.perf_counter() < until:
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            if kind == "page":
                response = await http.get(f"/api/pfa/{org}", headers=headers, params={
                    "category": rng.choice(CATEGORIES), "source": rng.choice(["Rental", "Purchase"]), "limit": 100})
                ok, what = response.status_code == 200, response.text
            elif kind == "save":
                response = await http.post(f"/api/pfa/{org}/drafts", headers=headers, json={
                    "record_id": demo_data.record_id(rng.randint(1, records)),
                    "changes": {"area": f"Load {rng.randint(1, 5)}"}})
                ok, what = response.status_code == 200, response.text
            else:
                ok, what = await _ask(http, headers, org, rng.choice(QUESTIONS))
        except httpx.HTTPError as exc:
            ok, what = False, f"{type(exc).__name__}: {exc}"
        if ok:
            tally.latencies[kind].append((time.perf_counter() - started) * 1000)
        else:
            tally.error(kind, what)


async def _ask(http: httpx.AsyncClient, headers: dict, org: str, question: str) -> tuple[bool, str]:
    """The whole SSE answer; fine when it has a summary, ends with `done` and carries no error event."""
    events = []
    async with http.stream("POST", "/api/ai/query", headers=headers,
                           json={"org_id": org, "question": question}) as response:
        if response.status_code != 200:
            return False, f"{response.status_code} {(await response.aread()).decode(errors='replace')}"
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
    ok = "error" not in events and "summary" in events and events[-1:] == ["done"]
    return ok, f"events {events}"


async def _run(url: str, dataset: Dataset, clients: int, seconds: float) -> tuple[Tally, float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        tokens = []
        for n in range(clients):
            response = await http.post("/api/auth/login", json={"username": f"load{n:02d}", "password": PASSWORD})
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
        tally = Tally()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client(http, token, dataset.org, dataset.records_per_org, n, until, tally)
                               for n, token in enumerate(tokens)))
        return tally, time.perf_counter() - started


def _add_users(dataset: Dataset, clients: int) -> None:
    password = hash_password(PASSWORD)
    with psycopg.connect(dataset.urls.app, autocommit=True) as conn:
        for n in range(clients):
            user = accounts.find_user_by_username(conn, f"load{n:02d}")
            user_id = user[0] if user else accounts.insert_user(conn, f"load{n:02d}", password)
            accounts.upsert_membership(conn, user_id, dataset.org, "editor")


def _start_worker(env: dict[str, str], dataset: Dataset) -> subprocess.Popen:
    """`vanguard worker` beside the API processes. The organizations are noted as just synced, so
    it syncs nothing of its own during the run (the sync loop does, as in the one-process run):
    it polls the outbox and listens, as a site's worker does between scheduled syncs."""
    from store import queries

    note = queries.load("sync")["note_sync_attempt"]
    with psycopg.connect(dataset.urls.app, autocommit=True) as conn:
        for org in dataset.codes:
            conn.execute(note, {"org": org})
    return subprocess.Popen([sys.executable, "-m", "nlq.cli", "worker"],
                            env={**env, "VANGUARD_SYNC_ENABLED": "true", "VANGUARD_SYNC_INTERVAL_MINUTES": "1440"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class _CpuMeter:
    """CPU seconds used during the run by each measured process tree (API processes, the worker,
    PostgreSQL: the postmaster serving the dataset and all its backends)."""

    def __init__(self, trees: dict[str, int]) -> None:
        self.trees = trees
        self.started = self._sample()

    @staticmethod
    def _tree_seconds(pid: int) -> float:
        total = 0.0
        try:
            root = psutil.Process(pid)
            times = root.cpu_times()  # with what its children that already ended used (PostgreSQL backends)
            total += times.children_user + times.children_system
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        except psutil.Error:
            pass
        return total

    def _sample(self) -> dict[str, float]:
        return {name: self._tree_seconds(pid) for name, pid in self.trees.items()}

    def used(self) -> dict[str, float]:
        now = self._sample()
        return {name: now[name] - self.started[name] for name in self.trees}


def _postmaster(dataset: Dataset) -> int | None:
    with psycopg.connect(dataset.urls.admin) as conn:  # the app role may not call pg_backend_pid()
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with contextlib.suppress(psutil.Error):
            return psutil.Process(backend).ppid()  # while the backend lives
    return None


@dataclass
class _Run:
    tally: Tally
    elapsed: float
    outcomes: list[int]
    cpu: dict[str, float]

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.tally.latencies.values()) + sum(self.tally.errors.values())

    @property
    def errors(self) -> int:
        return sum(self.tally.errors.values())


def _load_once(dataset: Dataset, env: dict[str, str], sim_url: str, clients: int, seconds: float,
               processes: int) -> _Run:
    service = worker = None
    stop, outcomes = threading.Event(), []
    syncing = threading.Thread(target=_sync_loop, daemon=True, args=(
        env, sim_url, dataset.codes[1], max(1, dataset.records_per_org // 100), stop, outcomes))
    try:
        service, url = _start_service(env, processes)
        trees = {"API": service.pid}
        if processes > 1:
            worker = _start_worker(env, dataset)
            trees["worker"] = worker.pid
        if (postmaster := _postmaster(dataset)) is not None:
            trees["PostgreSQL"] = postmaster
        meter = _CpuMeter(trees)
        syncing.start()
        tally, elapsed = asyncio.run(_run(url, dataset, clients, seconds))
        cpu = meter.used()
    finally:
        stop.set()
        if syncing.is_alive():
            syncing.join(timeout=600)
        for proc in (service, worker):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)
    return _Run(tally, elapsed, outcomes, cpu)


def _results(run: _Run, clients: int, seconds: float, label: str = "load") -> list[Result]:
    failed_syncs = sum(1 for code in run.outcomes if code != 0)
    results = []
    for kind, name in (("page", "page reads"), ("save", "draft saves"), ("nl", "NL questions (offline model)")):
        samples = run.tally.latencies.get(kind) or [0.0]
        results.append(Result(f"{label}: {name}", "ms", statistics.median(samples), p95(samples), "reference", None,
                              f"{len(run.tally.latencies.get(kind, [])):,} ok, {run.tally.errors.get(kind, 0)} errors"))
    cpu = "; CPU s: " + ", ".join(f"{name} {used:.0f}" for name, used in run.cpu.items()) if run.cpu else ""
    results.append(Result(f"{label}: {clients} clients for {seconds:g} s, errors", "err", run.errors, run.errors,
                          "0 errors", run.errors == 0 and failed_syncs == 0,
                          f"{run.requests / run.elapsed:.0f} requests/s; {len(run.outcomes)} full syncs during the run, "
                          f"{failed_syncs} failed{cpu}" + (f"; first errors: {run.tally.samples}" if run.tally.samples else "")))
    return results


def bench_load(dataset: Dataset, clients: int = 50, seconds: float = 60, workers: int = 1, *,
               reader_url: str | None = None, label: str = "load") -> list[Result]:
    """The load run against one API process, and with `workers` > 1 also against that many (+ a
    worker), side by side; with `reader_url` (a hot standby, `nlq.bench.standby`) the NL reads run there."""
    if len(dataset.codes) < 2:
        raise ValueError("the load run syncs a second organization: use --orgs 2 or more")
    _add_users(dataset, clients)
    sim, sim_url = start_simulator(dataset.records_per_org, orgs=2)
    env = _environment(dataset, sim_url)
    if reader_url:
        env["VANGUARD_READER_DATABASE_URL"] = reader_url
    try:
        single = _load_once(dataset, env, sim_url, clients, seconds, 1)
        if workers == 1:
            return _results(single, clients, seconds, label)
        several = _load_once(dataset, env, sim_url, clients, seconds, workers)
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    results = _results(single, clients, seconds, f"{label} 1 process") + _results(
        several, clients, seconds, f"{label} {workers} processes + worker")
    ratio = (several.requests / several.elapsed) / max(single.requests / single.elapsed, 1e-9)
    worse = [kind for kind in WEIGHTS if p95(several.tally.latencies.get(kind) or [0.0])
             > p95(single.tally.latencies.get(kind) or [0.0])]
    results.append(Result(f"{label}: requests/s, {workers} processes vs 1", "x", ratio, ratio, "≥ 1.5×, no higher p95",
                          ratio >= 1.5 and not worse and several.errors == 0,
                          f"{single.requests / single.elapsed:.0f} → {several.requests / several.elapsed:.0f} requests/s"
                          + (f"; higher p95: {', '.join(worse)}" if worse else "")))
    return results
