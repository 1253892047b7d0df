"""A seeded, bounded fault campaign for write-back.

Committed drafts are delivered to the PEMS simulator under every write fault (5xx, lost answers,
timeouts, "busy" refusals of a replayed key, stale recordids from other users' edits), by worker
processes that are SIGKILLed mid-delivery and taken over after their lease, and by two workers
at once. After every round each draft must be `synced` with exactly one PEMS write (and PEMS holding
its values), `conflict` or `sync_error` with no PEMS write, and no mirror row may ever have gone
back a version (a watcher reads the mirror while the workers run).

`run_write_campaign(app_url, drafts=..., rounds=..., seed=...)` runs it against a migrated
database; `python -m nlq.bench.faults_writes --drafts 400 --rounds 10` does so on a throwaway
embedded one and prints the totals. `python -m nlq.bench.faults_writes worker ...` is the
delivery loop the campaign starts (and kills) as a separate process.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

from store import accounts
from store.pems.background import BackgroundServer
from store.pems.client import PemsClient, PemsSettings
from store.pems.simulator import Faults, PemsSimulator
from store.sync.worker import sync_organization
from store.sync.writeback import commit_drafts, deliver_outbox

ORG = "FAULTS"
USER = "campaign"
FAULT_KINDS = ("5xx", "lost_answer", "timeout", "busy_on_replay", "stale_recordid")
LEASE_SECONDS = 1.0
CLIENT = {"timeout_seconds": 0.5, "max_attempts": 3, "backoff_seconds": 0.02}
DELIVERY = {"lease_seconds": LEASE_SECONDS, "max_attempts": 8, "backoff_seconds": 0.05, "limit": 4, "rounds": 3}

_INSERT_DRAFT = """
INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, state, delta, base)
SELECT m.organization_id, %(user_id)s, m.id, 'draft', %(delta)s,
       (SELECT jsonb_object_agg(k, m.data -> k) FROM jsonb_object_keys(%(delta)s) AS k)
FROM vanguard.pfa_mirror AS m WHERE m.organization_id = %(org)s AND m.id = %(record_id)s
RETURNING id"""
_OPEN_ROWS = """SELECT count(*) FROM vanguard.writeback_outbox
WHERE organization_id = %(org)s AND status IN ('pending', 'in_flight')"""
_IN_FLIGHT = """SELECT count(*) FROM vanguard.writeback_outbox
WHERE organization_id = %(org)s AND status = 'in_flight'"""
_CLAIMED_BY = """SELECT count(*) FROM vanguard.writeback_outbox
WHERE organization_id = %(org)s AND status = 'in_flight' AND claimed_by = %(worker)s"""
_DRAFT_STATES = "SELECT id, state FROM vanguard.pfa_draft WHERE id = ANY(%(ids)s)"
_MIRROR_VERSIONS = """SELECT id, pems_record_id FROM vanguard.pfa_mirror
WHERE organization_id = %(org)s AND id = ANY(%(ids)s)"""
_MAKE_DUE = "UPDATE vanguard.writeback_outbox SET next_attempt_at = now() WHERE organization_id = %(org)s"


@dataclass
class WriteCampaignReport:
    seed: int
    drafts: int = 0
    rounds: int = 0
    outcomes: Counter = field(default_factory=Counter)
    planned: Counter = field(default_factory=Counter)  # (what the campaign set the draft up for, outcome)
    faults: Counter = field(default_factory=Counter)
    kills: int = 0
    worker_processes: int = 0
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [f"write-back fault campaign (seed {self.seed}): {self.drafts} drafts in {self.rounds} rounds, "
                f"{self.seconds:.0f} s",
                "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
                "set up for -> outcome: " + ", ".join(f"{a} -> {b} {n}" for (a, b), n in sorted(self.planned.items())),
                "faults injected into writes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
                f"worker processes: {self.worker_processes}, killed mid-delivery: {self.kills}",
                f"mismatches: {len(self.mismatches)}", *(f"  {m}" for m in self.mismatches[:20])]


@dataclass
class _Planned:
    draft_id: int
    record_id: str
    delta: dict
    expect: str  # synced | conflict | sync_error: what the draft may end as, given what was done to it


class _MirrorWatch(threading.Thread):
    """Reads the mirror versions of the campaign's records every few milliseconds; any step back is noted."""

    def __init__(self, app_url: str, ids: list[str], report: WriteCampaignReport) -> None:
        super().__init__(daemon=True)
        self.app_url, self.ids, self.report = app_url, ids, report
        self.seen: dict[str, int] = {}
        self.reported: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            while not self.stop.is_set():
                self.look(conn)
                self.stop.wait(0.02)
            self.look(conn)

    def look(self, conn: psycopg.Connection) -> None:
        for record_id, version in conn.execute(_MIRROR_VERSIONS, {"org": ORG, "ids": self.ids}):
            before = self.seen.get(record_id)
            if version is not None and before is not None and version < before and record_id not in self.reported:
                self.reported.add(record_id)
                self.report.mismatches.append(f"{record_id}: the mirror went back from version {before} to {version}")
            self.seen[record_id] = max(version or 0, before or 0)


def run_write_campaign(app_url: str, *, drafts: int = 40, rounds: int = 4, seed: int = 1, records: int | None = None,
                       log: Callable[[str], None] | None = None) -> WriteCampaignReport:
    """Run the campaign against the migrated database at `app_url` (it adds organization FAULTS)."""
    started = time.monotonic()
    report = WriteCampaignReport(seed=seed, rounds=rounds)
    rng = random.Random(seed)
    sim = PemsSimulator([ORG], records or max(2 * drafts, 100), seed=seed)
    server = BackgroundServer(sim.app())
    pems_url = server.start()
    try:
        with psycopg.connect(app_url, autocommit=True) as conn:
            accounts.upsert_organization(conn, ORG, "write-back fault campaign")
            user_id = accounts.insert_user(conn, USER, "not-a-login", USER)
            accounts.upsert_membership(conn, user_id, ORG, "editor")
        calm = _client(pems_url, sim.api_key)
        if sync_organization(app_url, calm, ORG).status != "succeeded":
            raise RuntimeError("the first sync of the campaign's organization failed")
        chosen = rng.sample(sorted(sim.orgs[ORG]), drafts)
        watch = _MirrorWatch(app_url, chosen, report)
        watch.start()
        per_round = [chosen[i::rounds] for i in range(rounds)]
        for number, record_ids in enumerate(per_round):
            kinds = (FAULT_KINDS[(2 * number) % 5], FAULT_KINDS[(2 * number + 1) % 5])
            _Round(app_url, sim, pems_url, user_id, random.Random(rng.random()), report, number).run(record_ids, kinds)
            if log:
                log(f"round {number + 1}/{rounds} ({', '.join(kinds)}): "
                    + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
                    + f"; mismatches {len(report.mismatches)}")
        watch.stop.set()
        watch.join(10)
        report.faults.update(sim.write_faults)
    finally:
        server.stop()
    report.seconds = time.monotonic() - started
    return report


def _client(pems_url: str, api_key: str) -> PemsClient:
    return PemsClient(PemsSettings(pems_url, api_key=api_key, page_size=1000, **CLIENT))


@dataclass
class _Round:
    app_url: str
    sim: PemsSimulator
    pems_url: str
    user_id: int
    rng: random.Random
    report: WriteCampaignReport
    number: int

    def run(self, record_ids: list[str], kinds: tuple[str, ...]) -> None:
        planned = self._commit(record_ids, "stale_recordid" in kinds)
        self._inject(kinds, len(planned))
        if self.number % 2 == 0:
            self._kill_then_take_over(planned)
        else:
            self._two_workers_one_killed()
        self.sim.faults = Faults()
        self._drain()
        self._check(planned)
        self.report.drafts += len(planned)

    def _commit(self, record_ids: list[str], edit_some: bool) -> list[_Planned]:
        planned: list[_Planned] = []
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            for i, record_id in enumerate(record_ids):
                roll = self.rng.random()
                if roll < 0.1:
                    delta, expect = {"forecastEnd": "2000-01-01"}, "sync_error"  # PEMS refuses: end before start
                else:
                    delta, expect = {"area": f"Campaign {self.number}-{i}"}, "synced"
                draft_id = conn.execute(_INSERT_DRAFT, {"org": ORG, "user_id": self.user_id, "record_id": record_id,
                                                        "delta": Jsonb(delta)}).fetchone()[0]
                planned.append(_Planned(draft_id, record_id, delta, expect))
            result = commit_drafts(conn, ORG, self.user_id)
        if sorted(result.committed) != sorted(record_ids):
            self.report.mismatches.append(f"round {self.number}: commit did not commit every draft: {result.conflicts}")
        for item in planned if edit_some else ():
            if item.expect == "synced" and self.rng.random() < 0.4:
                if self.rng.random() < 0.5:  # another user changes the same field: a conflict
                    self.sim.edit_record(ORG, item.record_id, {"area": f"Theirs {item.draft_id}"})
                    item.expect = "conflict"
                else:  # ... or another field: rebased and sent again
                    self.sim.edit_record(ORG, item.record_id, {"equipmentTag": f"TAG-{item.draft_id}"})
        return planned

    def _inject(self, kinds: tuple[str, ...], count: int) -> None:
        faults = Faults()
        self.sim.rng = random.Random(self.rng.random())
        for kind in kinds:
            if kind == "5xx":
                faults.error_rate, faults.refuse_writes = 0.2, max(1, count // 4)
            elif kind == "lost_answer":
                faults.drop_after_write = max(1, count // 3)
            elif kind == "timeout":
                faults.timeout_rate, faults.timeout_seconds = 0.1, 1.0
                faults.slow_after_write = max(1, count // 4)
            elif kind == "busy_on_replay":
                faults.drop_after_write = max(faults.drop_after_write, count // 3, 1)
                faults.busy_on_replay = 2 * count
        self.sim.faults = faults

    def _kill_then_take_over(self, planned: list[_Planned]) -> None:
        """A worker is killed mid-delivery; other users edit what it wrote but did not record, and a
        read sync stores those newer versions; then another worker takes the rows over (its replays
        carry the older versions PEMS first answered)."""
        # Answers held past the client's timeout (the round's other write faults wait): the kill
        # likely finds a write PEMS applied and the worker has not recorded.
        faults = self.sim.faults
        held = faults.refuse_writes, faults.drop_after_write
        faults.refuse_writes = faults.drop_after_write = 0
        faults.slow_after_write = max(faults.slow_after_write, len(planned) // 2, 1)
        victim = self._start_worker("victim")
        self._kill_when_busy(victim, "victim")
        faults.refuse_writes, faults.drop_after_write = held
        written = self.sim.writes_of(ORG)
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            states = dict(conn.execute(_DRAFT_STATES, {"ids": [p.draft_id for p in planned]}).fetchall())
        for item in planned:
            if states.get(item.draft_id) == "committed" and written.get(item.record_id):
                self.sim.edit_record(ORG, item.record_id, {"equipmentTag": f"LATER-{item.draft_id}"})
                self.report.faults["edited_after_unrecorded_write"] += 1
        sync_organization(self.app_url, _client(self.pems_url, self.sim.api_key), ORG)  # fails or not: a read
        self._wait(self._start_worker("successor"))

    def _two_workers_one_killed(self) -> None:
        first, second = self._start_worker("first"), self._start_worker("second")
        if self.rng.random() < 0.5:
            self.sim.faults.latency_ms = 40
            self._kill_when_busy(first, "first")
            self.sim.faults.latency_ms = 0
        else:
            self._wait(first)
        self._wait(second)

    def _start_worker(self, role: str) -> tuple[subprocess.Popen, str]:
        name = f"campaign-{self.number}-{role}"
        self.report.worker_processes += 1
        proc = subprocess.Popen([sys.executable, "-m", "nlq.bench.faults_writes", "worker", "--app-url", self.app_url,
                                 "--pems-url", self.pems_url, "--api-key", self.sim.api_key, "--name", name],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return proc, name

    def _kill_when_busy(self, worker: tuple[subprocess.Popen, str], role: str) -> None:
        proc, name = worker
        deadline = time.monotonic() + 30
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            while time.monotonic() < deadline and proc.poll() is None:
                if conn.execute(_CLAIMED_BY, {"org": ORG, "worker": name}).fetchone()[0]:
                    break
                time.sleep(0.02)
        time.sleep(self.rng.uniform(0.05, 0.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            self.report.kills += 1
        proc.wait(30)

    def _wait(self, worker: tuple[subprocess.Popen, str]) -> None:
        proc, name = worker
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            self.report.mismatches.append(f"{name} did not finish in 120 s")
            return
        if proc.returncode != 0:
            self.report.mismatches.append(f"{name} exited {proc.returncode}: {(err or '').strip()[-400:]}")

    def _drain(self) -> None:
        """Calm PEMS: deliver until no row is pending or in flight (killed workers' leases run out)."""
        client = _client(self.pems_url, self.sim.api_key)
        deadline = time.monotonic() + 120
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            while conn.execute(_OPEN_ROWS, {"org": ORG}).fetchone()[0]:
                if time.monotonic() > deadline:
                    self.report.mismatches.append(f"round {self.number}: outbox rows still open after 120 s")
                    return
                conn.execute(_MAKE_DUE, {"org": ORG})
                deliver_outbox(self.app_url, client, org=ORG, worker=f"campaign-{self.number}-drain", **DELIVERY)
                time.sleep(0.1)

    def _check(self, planned: list[_Planned]) -> None:
        with psycopg.connect(self.app_url, autocommit=True) as conn:
            states = dict(conn.execute(_DRAFT_STATES, {"ids": [p.draft_id for p in planned]}).fetchall())
            mirror = dict(conn.execute(_MIRROR_VERSIONS, {"org": ORG, "ids": [p.record_id for p in planned]}).fetchall())
        pems = self.sim.snapshot(ORG)
        writes = self.sim.writes_of(ORG)
        for item in planned:
            state, count = states.get(item.draft_id), writes.get(item.record_id, 0)
            self.report.outcomes[state] += 1
            self.report.planned[(item.expect, state)] += 1
            data, version = pems[item.record_id]
            where = f"round {self.number}, {item.record_id} ({state}, expected {item.expect})"
            if state == "synced":
                if count != 1:
                    self.report.mismatches.append(f"{where}: synced with {count} PEMS writes")
                if any(data.get(k) != v for k, v in item.delta.items()):
                    self.report.mismatches.append(f"{where}: synced but PEMS does not hold {item.delta}")
            elif state in ("conflict", "sync_error"):
                if count:
                    self.report.mismatches.append(f"{where}: {state} although PEMS applied it {count} time(s)")
            else:
                self.report.mismatches.append(f"{where}: not in a final state")
            if item.expect != "synced" and state == "synced":
                self.report.mismatches.append(f"{where}: should not have reached PEMS")
            if mirror.get(item.record_id) is not None and mirror[item.record_id] > version:
                self.report.mismatches.append(f"{where}: the mirror is ahead of PEMS")


def run_worker(app_url: str, pems_url: str, api_key: str, name: str, seconds: float = 90) -> None:
    """The delivery loop of one worker process: until nothing is due and nothing in flight (a dead
    worker's rows are in flight until their lease runs out, then this one takes them over)."""
    client = _client(pems_url, api_key)
    deadline = time.monotonic() + seconds
    with psycopg.connect(app_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            result = deliver_outbox(app_url, client, org=ORG, worker=name, **DELIVERY)
            if not result.claimed and not conn.execute(_IN_FLIGHT, {"org": ORG}).fetchone()[0]:
                return
            time.sleep(0.05)


def bench_faults_writes(runs: int, seed: int = 1) -> list:
    """`vanguard bench --only faults`, the write half: `runs` x 8 drafts (40 to 400) in rounds of about
    40 (at least two: one with a worker killed, one with two workers), on a throwaway database."""
    from nlq.bench import Result
    from nlq.bench.dataset import fresh_database

    drafts = max(40, min(8 * runs, 400))
    rounds = max(2, drafts // 40)
    print(f"fault campaign (writes): {drafts:,} drafts in {rounds} rounds ...", flush=True)
    with fresh_database() as urls:
        report = run_write_campaign(urls.app, drafts=drafts, rounds=rounds, seed=seed)
    for line in report.lines():
        print(f"  {line}", flush=True)
    return [Result(f"faults (writes): mismatches in {report.drafts:,} drafts", "", len(report.mismatches),
                   len(report.mismatches), "0", not report.mismatches,
                   f"{report.kills} workers killed mid-delivery; {report.seconds:.0f} s")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlq.bench.faults_writes", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    worker = commands.add_parser("worker", help="one delivery worker (started by the campaign)")
    for name in ("--app-url", "--pems-url", "--api-key", "--name"):
        worker.add_argument(name, required=True)
    parser.add_argument("--drafts", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "worker":
        run_worker(args.app_url, args.pems_url, args.api_key, args.name)
        return 0
    from nlq.bench import machine
    from nlq.bench.dataset import fresh_database

    with fresh_database() as urls:
        report = run_write_campaign(urls.app, drafts=args.drafts, rounds=args.rounds, seed=args.seed,
                                    records=args.records, log=lambda line: print(line, flush=True))
    print(f"machine: {machine()}")
    print("\n".join(report.lines()))
    return 1 if report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
