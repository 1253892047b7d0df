"""Guardrail cost: `check()` over the benign corpus against a bare `sqlglot.parse` of the same SQL."""

from __future__ import annotations

import statistics

import sqlglot

from guardrails import check
from store.fields import VIEW_COLUMNS
from guardrails.corpus import load
from nlq.bench import Result, measure, p95

TARGET_MS = 3.0
TARGET_RATIO = 3.0


def bench_guard(runs: int) -> list[Result]:
    """Per-statement medians over the corpus: each statement is timed `runs` times."""
    cases = load("benign")
    check_medians, parse_medians, ratios = [], [], []
    for case in cases:
        checked = measure(lambda: check(case.sql, org_id="ORG_A", view_columns=VIEW_COLUMNS), runs)
        parsed = measure(lambda: sqlglot.parse(case.sql, read="postgres"), runs)
        check_medians.append(statistics.median(checked))
        parse_medians.append(statistics.median(parsed))
        ratios.append(check_medians[-1] / parse_medians[-1])
    check_median = statistics.median(check_medians)
    ratio = statistics.median(ratios)
    return [
        Result("guardrails.check (benign corpus)", "ms", check_median, p95(check_medians),
               f"<= {TARGET_MS} ms", check_median <= TARGET_MS, f"{len(cases)} statements"),
        Result("sqlglot.parse (same statements)", "ms", statistics.median(parse_medians), p95(parse_medians),
               "reference", None),
        Result("check / parse ratio", "x", ratio, p95(ratios), f"<= {TARGET_RATIO}x", ratio <= TARGET_RATIO),
    ]
