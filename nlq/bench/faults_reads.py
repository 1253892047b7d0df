"""A seeded, bounded fault campaign for sync reads, checked run by run.

Many full and incremental runs of one organization against the simulator while its users change,
add and delete records between the pages of every read, under every read fault the simulator has
(latency, 5xx, timeouts, an ErrorAlert in a 200, malformed rows). After every run the mirror is
compared with what PEMS held before and after it (`check_run`): a failed run changed nothing; a
successful one holds exactly PEMS's version of every record that did not change during the run,
a version between the two for those that did, marks deleted (after a full run) exactly what PEMS
no longer has, never goes back a version, and counted every record once. `vanguard bench --only
faults` runs it with larger numbers; `tests/test_faults_reads.py` with small ones.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from store import accounts
from store.pems.client import PemsClient, PemsSettings
from store.pems.simulator import Churn, Faults, PemsSimulator, Served
from store.sync.worker import SyncResult, sync_organization

FAULT_KINDS = ("latency", "http_5xx", "timeout", "error_alert", "malformed_rows")
ORG = "FAULTS"
# A timeout fault holds its answer longer than this; a page that is merely slow on a busy machine
# never takes as long (the client would retry a page PEMS did serve, and `fetched` would not add up).
CLIENT_TIMEOUT_SECONDS = 3.0
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class MirrorRow:
    data: dict
    recordid: int | None
    deleted: bool

    @property
    def version(self) -> tuple[dict, int | None]:
        return self.data, self.recordid


@dataclass(frozen=True)
class CampaignConfig:
    runs: int = 40
    records: int = 600
    page_size: int = 60
    seed: int = 1
    full_share: float = 0.3
    overlap_seconds: float = 60.0


@dataclass
class CampaignTotals:
    runs: int = 0
    full: int = 0
    incremental: int = 0
    succeeded: int = 0
    failed: int = 0
    rows_read: int = 0
    longer_than_overlap: int = 0  # runs that lasted longer than the overlap on PEMS's clock
    faults: Counter = field(default_factory=Counter)  # injected by the simulator, by kind
    churn: Counter = field(default_factory=Counter)  # changes / adds / deletes during reads
    between_runs: Counter = field(default_factory=Counter)  # changes / adds / deletes between runs
    failures: Counter = field(default_factory=Counter)  # why the failed runs failed
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        faults = ", ".join(f"{kind} {self.faults.get(kind, 0):,}" for kind in FAULT_KINDS)
        churn = ", ".join(f"{k} {self.churn.get(k, 0):,}" for k in ("changes", "adds", "deletes"))
        between = ", ".join(f"{k} {self.between_runs.get(k, 0):,}" for k in ("changes", "adds", "deletes"))
        return (f"{self.runs} runs ({self.full} full, {self.incremental} incremental; {self.succeeded} succeeded, "
                f"{self.failed} failed; {self.longer_than_overlap} longer than the overlap), {self.rows_read:,} rows "
                f"read; faults injected: {faults}; during reads: {churn}; between runs: {between}; "
                f"failed runs: {'; '.join(f'{n} {why}' for why, n in self.failures.most_common())}; "
                f"mismatches: {len(self.mismatches)}")


def read_mirror(conn: psycopg.Connection, org: str) -> dict[str, MirrorRow]:
    rows = conn.execute("SELECT id, data, pems_record_id, deleted_at IS NOT NULL FROM vanguard.pfa_mirror"
                        " WHERE organization_id = %s", (org,)).fetchall()
    return {rid: MirrorRow(data, recordid, deleted) for rid, data, recordid, deleted in rows}


def check_run(result: SyncResult, *, pems_before: dict, pems_after: dict, mirror_before: dict[str, MirrorRow],
              mirror_after: dict[str, MirrorRow], served: Served, malformed: set[str],
              may_be_stale: set[str] = frozenset(), client_timeouts: bool = False) -> list[str]:
    """What is wrong with the mirror after `result`, given PEMS before and after the run (id ->
    (data, recordid)), the mirror before and after, and what PEMS served during the run.

    `malformed` are the ids PEMS sent unreadable during the run; `may_be_stale` are records whose
    current version was already unreadable in an earlier run (an incremental run reads such a
    version once more, then leaves it to the next full run). With `client_timeouts` the client
    may have given up on pages PEMS did serve, so `fetched` is only bounded by what was served.
    """
    tag = f"run {result.run_id} ({result.kind}, {result.status})"
    if result.status != "succeeded":
        return [] if mirror_after == mirror_before else [f"{tag}: the mirror changed although the run did not land"]
    problems = []
    full = result.kind == "full"
    for rid in sorted(set(pems_before) | set(pems_after) | set(mirror_before) | set(mirror_after)):
        problem = _check_record(rid, pems_before.get(rid), pems_after.get(rid), mirror_before.get(rid),
                                mirror_after.get(rid), full=full, seen=rid in served.ids, malformed=rid in malformed,
                                may_be_stale=rid in may_be_stale)
        if problem:
            problems.append(f"{tag}: {rid}: {problem}")
    problems.extend(f"{tag}: {p}" for p in _check_counts(result, mirror_before, mirror_after, served, client_timeouts))
    return problems


def _check_record(rid: str, before, after, m0: MirrorRow | None, m: MirrorRow | None, *, full: bool,
                  seen: bool, malformed: bool, may_be_stale: bool) -> str | None:
    live = m is not None and not m.deleted
    if m0 is not None and m is not None and (m.recordid or 0) < (m0.recordid or 0):
        return f"went back from version {m0.recordid} to {m.recordid}"
    if malformed and after is not None:
        return None if m == m0 else "written or deleted although PEMS sent it unreadable"
    if may_be_stale and not full and m == m0:
        return None
    if before is not None and after is not None and before == after:  # did not change during the run
        if live and m.version == after:
            return None
        return f"mirror has {_describe(m)}, PEMS has version {after[1]}"
    if before is not None and after is not None:  # changed during the run: any version in between
        if not live:
            return f"changed during the run but {_describe(m)} in the mirror"
        return _between(m, before, after)
    if before is not None:  # deleted during the run: deleted, the version the run saw, or (incremental) unread
        return None if not live or (not full and m == m0) else _between(m, before, None)
    if after is not None:  # added during the run: absent, or a version of it
        return None if m is None else _between(m, None, after)
    if seen:  # added and deleted again during the run: what the run saw of it
        return None
    if full and live:  # gone before the run began
        return "PEMS no longer has it but a full run left it live"
    if not full and m != m0:
        return "an incremental run changed a record PEMS no longer has"
    return None


def _between(m: MirrorRow, before, after) -> str | None:
    low = before[1] if before else 1
    high = after[1] if after else None
    if m.recordid is None or m.recordid < low or (high is not None and m.recordid > high):
        return f"mirror has version {m.recordid}, PEMS had {low} to {high or 'its deletion'}"
    for version in (before, after):
        if version is not None and m.recordid == version[1] and m.data != version[0]:
            return f"version {m.recordid} in the mirror differs from PEMS's"
    return None


def _describe(m: MirrorRow | None) -> str:
    if m is None:
        return "nothing"
    return f"version {m.recordid}" + (" (deleted)" if m.deleted else "")


def _check_counts(result: SyncResult, m0: dict[str, MirrorRow], m1: dict[str, MirrorRow], served: Served,
                  client_timeouts: bool) -> list[str]:
    inserted = sum(1 for rid in m1 if rid not in m0)
    updated = sum(1 for rid, row in m1.items() if rid in m0 and (
        row.version != m0[rid].version or (m0[rid].deleted and not row.deleted)))
    deleted = sum(1 for rid, row in m1.items() if row.deleted and rid in m0 and not m0[rid].deleted)
    problems = []
    expected = {"inserted": inserted, "updated": updated, "deleted": deleted, "fetched": served.rows,
                "inserted + updated + unchanged": len(served.ids),
                "malformed": len(served.malformed - served.ids)}
    counted = {"inserted": result.inserted, "updated": result.updated, "deleted": result.deleted,
               "fetched": result.fetched, "inserted + updated + unchanged": result.inserted + result.updated + result.unchanged,
               "malformed": result.malformed}
    if client_timeouts:
        del expected["fetched"]
        if not len(served.ids) <= result.fetched <= served.rows:
            problems.append(f"counted fetched {result.fetched:,}, PEMS served {served.rows:,}")
    for name, value in expected.items():
        if counted[name] != value:
            problems.append(f"counted {name} {counted[name]:,}, the mirror and PEMS say {value:,}")
    return problems


def run_campaign(app_url: str, sim: PemsSimulator, pems_url: str, config: CampaignConfig,
                 progress: Callable[[int, CampaignTotals], None] | None = None) -> CampaignTotals:
    """`config.runs` sync runs of `ORG` (which `sim` must hold), each under drawn churn and faults,
    then two quiet runs (incremental, full) after which the mirror must equal PEMS exactly."""
    rng = random.Random(config.seed)
    totals = CampaignTotals()
    started = time.perf_counter()
    injected_before = Counter(sim.injected)
    client = PemsClient(PemsSettings(pems_url, api_key=sim.api_key, page_size=config.page_size,
                                     timeout_seconds=CLIENT_TIMEOUT_SECONDS, max_attempts=MAX_ATTEMPTS,
                                     backoff_seconds=0.005))
    with psycopg.connect(app_url, autocommit=True) as conn:
        accounts.upsert_organization(conn, ORG, "fault campaign")
        unreadable: dict[str, tuple[int, int]] = {}  # id -> (version, successful runs that could not read it)
        try:
            for number in range(config.runs):
                if number and rng.random() < 0.5:
                    _change_between_runs(sim, rng, totals)
                _draw_faults(sim, rng)
                churn = Churn(changes=rng.randint(0, 4), adds=rng.randint(0, 2), deletes=rng.randint(0, 2),
                              seconds=rng.choice([0, 0, 10, 40]), seed=rng.randrange(1 << 30))
                full = number == 0 or rng.random() < config.full_share
                _one_run(conn, app_url, client, sim, churn, full, config, totals, unreadable)
                if progress:
                    progress(number + 1, totals)
            sim.faults = Faults()
            for full in (False, True):  # quiet runs: everything must have caught up
                _one_run(conn, app_url, client, sim, Churn(), full, config, totals, unreadable)
            totals.mismatches.extend(_compare_exactly(read_mirror(conn, ORG), sim.snapshot(ORG)))
        finally:
            sim.faults = Faults()
            sim.set_churn(Churn())
            client.close()
    totals.faults = Counter({k: v - injected_before.get(k, 0) for k, v in sim.injected.items()})
    totals.seconds = time.perf_counter() - started
    return totals


def _one_run(conn, app_url: str, client: PemsClient, sim: PemsSimulator, churn: Churn, full: bool,
             config: CampaignConfig, totals: CampaignTotals, unreadable: dict[str, tuple[int, int]]) -> None:
    malformed = set(sim.faults.malformed_ids.get(ORG, set()))
    pems_before, mirror_before = sim.snapshot(ORG), read_mirror(conn, ORG)
    may_be_stale = {rid for rid, (version, runs) in unreadable.items()
                    if runs >= 2 and pems_before.get(rid, (None, None))[1] == version}
    sim.take_served(ORG)
    sim.set_churn(churn)
    lost_before = client.answers_lost
    began = sim.clock()
    result = sync_organization(app_url, client, ORG, full=full, overlap_seconds=config.overlap_seconds)
    totals.longer_than_overlap += (sim.clock() - began).total_seconds() > config.overlap_seconds
    totals.churn.update(sim.churned)
    sim.set_churn(Churn())
    served = sim.take_served(ORG)
    pems_after, mirror_after = sim.snapshot(ORG), read_mirror(conn, ORG)
    totals.mismatches.extend(check_run(result, pems_before=pems_before, pems_after=pems_after,
                                       mirror_before=mirror_before, mirror_after=mirror_after, served=served,
                                       malformed=malformed & served.malformed, may_be_stale=may_be_stale,
                                       # a slow machine can time a page out with no fault drawn
                                       client_timeouts=client.answers_lost > lost_before))
    totals.runs += 1
    totals.full += result.kind == "full"
    totals.incremental += result.kind == "incremental"
    totals.succeeded += result.status == "succeeded"
    totals.failed += result.status == "failed"
    if result.status == "failed":
        totals.failures[result.error] += 1
    totals.rows_read += result.fetched
    if result.status == "succeeded":
        for rid in served.malformed - served.ids:
            version = pems_after.get(rid, (None, None))[1]
            previous = unreadable.get(rid)
            unreadable[rid] = (version, previous[1] + 1 if previous and previous[0] == version else 1)
        for rid in served.ids:
            unreadable.pop(rid, None)


def _draw_faults(sim: PemsSimulator, rng: random.Random) -> None:
    """Each read fault kind with a chance of one in three, at a drawn strength."""
    faults = Faults(timeout_seconds=CLIENT_TIMEOUT_SECONDS + 0.5)
    if rng.random() < 1 / 3:
        faults.latency_ms = rng.choice([2, 10, 40])
    if rng.random() < 1 / 3:
        faults.error_rate = rng.choice([0.1, 0.3])
    if rng.random() < 1 / 3:
        faults.timeout_rate = rng.choice([0.02, 0.05])
    if rng.random() < 1 / 3:
        faults.error_alert_rate = rng.choice([0.02, 0.1])
    sim.faults = faults
    sim.rng = random.Random(rng.randrange(1 << 30))
    if rng.random() < 1 / 3:
        sim.set_malformed(ORG, rng.choice([0.01, 0.03]), seed=rng.randrange(1 << 30))


def _change_between_runs(sim: PemsSimulator, rng: random.Random, totals: CampaignTotals) -> None:
    """A busy spell between two runs, so that incremental runs have several pages to read."""
    totals.between_runs["changes"] += len(sim.change_records(ORG, rng.randint(10, 150), seed=rng.randrange(1 << 30)))
    totals.between_runs["adds"] += len(sim.add_records(ORG, rng.randint(0, 10)))
    ids = sorted(sim.snapshot(ORG))
    totals.between_runs["deletes"] += len(sim.delete_records(ORG, rng.sample(ids, min(len(ids), rng.randint(0, 8)))))
    sim.advance_clock(rng.choice([0, 5, 90]))


def _compare_exactly(mirror: dict[str, MirrorRow], pems: dict) -> list[str]:
    problems = [f"after the quiet runs: {rid}: mirror has {_describe(mirror.get(rid))}, PEMS has version {v[1]}"
                for rid, v in sorted(pems.items()) if rid not in mirror or mirror[rid].deleted
                or mirror[rid].version != v]
    problems += [f"after the quiet runs: {rid} is live in the mirror but gone from PEMS"
                 for rid, row in sorted(mirror.items()) if rid not in pems and not row.deleted]
    return problems


BENCH_RECORDS = 1500
BENCH_PAGE_SIZE = 100


def bench_faults(runs: int, seed: int = 1) -> list:
    """`vanguard bench --only faults`: the campaign with `runs` runs on a throwaway database."""
    from nlq.bench import Result
    from nlq.bench.dataset import fresh_database
    from store.pems.background import BackgroundServer

    config = CampaignConfig(runs=runs, records=BENCH_RECORDS, page_size=BENCH_PAGE_SIZE, seed=seed)
    print(f"fault campaign (reads): {runs:,} sync runs of {BENCH_RECORDS:,} records ...", flush=True)

    def report(done: int, totals: CampaignTotals) -> None:
        if done % 25 == 0:
            print(f"  {done:,} runs, {len(totals.mismatches)} mismatches", flush=True)

    # Retries and failed runs are the point here: one line each would bury the table.
    quiet = [logging.getLogger(name) for name in ("store.pems.client", "store.sync.worker", "store.sync.schedule")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    try:
        with fresh_database() as urls:
            sim = PemsSimulator([ORG], BENCH_RECORDS, seed=seed)
            with BackgroundServer(sim.app(), date_header=False) as url:
                totals = run_campaign(urls.app, sim, url, config, progress=report)
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    for mismatch in totals.mismatches[:20]:
        print(f"  mismatch: {mismatch}", flush=True)
    return [Result(f"faults (reads): mismatches in {totals.runs:,} sync runs", "", len(totals.mismatches),
                   len(totals.mismatches), "0", not totals.mismatches,
                   f"{totals.summary()}; {totals.seconds:.0f} s")]
