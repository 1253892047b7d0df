"""`vanguard bench`: measured figures against the product's targets, as a table and as JSON."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


ITEMS = ("guard", "sync", "faults", "nlq", "fair", "api", "load", "matrix")


@dataclass
class Result:
    name: str
    unit: str
    median: float
    p95: float
    target: str
    passed: bool | None
    note: str = ""


def measure(fn: Callable[[], object], runs: int, warmup: int = 5) -> list[float]:
    """Wall-clock milliseconds of `runs` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"


def print_table(results: list[Result]) -> None:
    print(f"machine: {machine()}")
    print(f"{'benchmark':50} {'median':>14} {'p95':>14} {'target':18} result")
    for r in results:
        verdict = "-" if r.passed is None else ("pass" if r.passed else "FAIL")
        print(f"{r.name:50} {r.median:>10.3f} {r.unit:<3} {r.p95:>10.3f} {r.unit:<3} {r.target:18} {verdict}  {r.note}")


def run_benchmarks(args: argparse.Namespace) -> int:
    from nlq.bench.api import bench_api
    from nlq.bench.dataset import bench_dataset
    from nlq.bench.fairshare import bench_fairshare
    from nlq.bench.faults_reads import bench_faults
    from nlq.bench.faults_writes import bench_faults_writes
    from nlq.bench.guard import bench_guard
    from nlq.bench.load import bench_load
    from nlq.bench.matrix import bench_matrix
    from nlq.bench.nlq import bench_nlq
    from nlq.bench.sync import bench_sync

    selected = set(args.only or ITEMS)
    if selected & {"api", "load"} and args.records // args.orgs < 2000:
        print("vanguard bench: the API and load items need at least 2,000 records per organization "
              f"(--records {args.records:,} / --orgs {args.orgs} gives {args.records // args.orgs:,})", file=sys.stderr)
        return 2
    results: list[Result] = []
    if "guard" in selected:
        results.extend(bench_guard(args.runs))
    if "sync" in selected:
        results.extend(bench_sync(args.sync_records))
    if "faults" in selected:
        results.extend(bench_faults(args.runs))
        results.extend(bench_faults_writes(args.runs))
    if selected & {"nlq", "fair", "api", "load", "matrix"}:
        # One dataset for these three; the read-only item first, then the ones that write.
        with bench_dataset(args.records, args.orgs, args.drafts) as dataset:
            if "nlq" in selected:
                results.extend(bench_nlq(dataset, runs=min(args.runs, 100)))
            if "fair" in selected:
                results.extend(bench_fairshare(dataset, runs=min(args.runs, 30)))
            if "matrix" in selected:
                results.extend(bench_matrix(dataset, runs=min(args.runs, 100)))
            if "api" in selected:
                results.extend(bench_api(dataset, runs=min(args.runs, 100)))
            if "load" in selected:
                results.extend(bench_load(dataset, clients=args.clients, seconds=args.load_seconds,
                                          workers=getattr(args, "workers", 1)))
                if getattr(args, "replica", False):
                    from nlq.bench.standby import bench_load_on_standby

                    results.extend(bench_load_on_standby(dataset, clients=args.clients, seconds=args.load_seconds))
    print_table(results)
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump({"machine": machine(), "arguments": {k: v for k, v in vars(args).items() if k != "handler"},
                       "results": [asdict(r) for r in results]}, out, indent=2)
    return 0 if all(r.passed is not False for r in results) else 1
