"""The report of an eval run: tables per level and per kind, the wrong answers, timings, thresholds."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from nlq.db import jsonable
from nlq.eval.questions import KINDS, LEVELS
from nlq.eval.run import Result
from nlq.eval.score import VERDICTS

_SCOPED_VIEW = re.compile(r"\(SELECT \* FROM nlq\.pfa_merged WHERE organization_id = '[^']*'\) AS (\w+)")


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    target: str
    passed: bool


def counts(results: list[Result]) -> dict:
    """Right / declined / wrong / error counts and shares of a group of results."""
    tally = Counter(r.verdict for r in results)
    total = len(results)
    out = {"questions": total, **{v: tally.get(v, 0) for v in VERDICTS}}
    for verdict in VERDICTS:
        out[f"{verdict}_share"] = tally.get(verdict, 0) / total if total else 0.0
    # Errors are answers that went wrong on the way, not refusals: they count against the wrong limit.
    out["wrong_or_error_share"] = (tally.get("wrong", 0) + tally.get("error", 0)) / total if total else 0.0
    return out


def summarize(results: list[Result]) -> dict:
    levels = {level: counts([r for r in results if r.question.level == level]) for level in LEVELS}
    kinds = {}
    for kind in KINDS:
        group = [r for r in results if r.question.kind == kind]
        if group:
            kinds[kind] = counts(group) | {"plain": sum(r.question.level == "plain" for r in group),
                                           "hard": sum(r.question.level == "hard" for r in group)}
    codes = Counter(r.answer.error_code for r in results if r.verdict == "declined")
    seconds = [r.seconds for r in results]
    timings = {"total_seconds": round(sum(seconds), 3)}
    if seconds:
        ordered = sorted(seconds)
        timings |= {"median_ms": round(statistics.median(seconds) * 1000, 1),
                    "p95_ms": round(ordered[max(0, int(round(0.95 * len(ordered))) - 1)] * 1000, 1),
                    "max_ms": round(ordered[-1] * 1000, 1)}
    return {"all": counts(results), "levels": levels, "kinds": kinds, "declined_codes": dict(codes.most_common()),
            "timings": timings}


def check_thresholds(summary: dict, *, min_right_plain: float, min_right_hard: float, max_wrong: float) -> list[Check]:
    """One check per target for each level that had questions."""
    checks = []
    for level, minimum in (("plain", min_right_plain), ("hard", min_right_hard)):
        row = summary["levels"][level]
        if not row["questions"]:
            continue
        checks.append(Check(f"{level} right", row["right_share"], f">= {minimum:.0%}", row["right_share"] >= minimum))
        checks.append(Check(f"{level} wrong (with errors)", row["wrong_or_error_share"], f"<= {max_wrong:.0%}",
                            row["wrong_or_error_share"] <= max_wrong))
    return checks


def display_sql(sql: str | None) -> str:
    """The executed statement with the service's organization scoping folded back to the view's
    name, which is how the model wrote it (the JSON keeps the statement as executed)."""
    if not sql:
        return "(none)"
    return _SCOPED_VIEW.sub(lambda m: "pfa_merged" if m.group(1) == "pfa_merged" else f"pfa_merged AS {m.group(1)}", sql)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _row(label: str, row: dict, width: int = 18) -> str:
    return (f"{label:{width}} {row['questions']:>9} {row['right']:>6} {row['declined']:>9} {row['wrong']:>6} "
            f"{row['error']:>6} {_pct(row['right_share']):>8} {_pct(row['declined_share']):>9} "
            f"{_pct(row['wrong_or_error_share']):>8}")


def print_report(header: str, results: list[Result], summary: dict, checks: list[Check]) -> None:
    print(header)
    print()
    title = f"{'level':18} {'questions':>9} {'right':>6} {'declined':>9} {'wrong':>6} {'error':>6} {'right':>8} {'declined':>9} {'wrong*':>8}"
    print(title)
    for level in LEVELS:
        if summary["levels"][level]["questions"]:
            print(_row(level, summary["levels"][level]))
    print(_row("all", summary["all"]))
    print()
    print(title.replace("level", "kind ", 1))
    for kind, row in summary["kinds"].items():
        print(_row(kind, row))
    print("(* wrong and error together, the share the wrong limit applies to)")
    failed = [r for r in results if r.verdict in ("wrong", "error")]
    print()
    print(f"wrong answers and errors ({len(failed)}):" if failed else "wrong answers and errors: none")
    for r in failed:
        print(f"  [{r.question.id}] {r.verdict}: {r.question.question}")
        print(f"      SQL:  {display_sql(r.answer.sql)}")
        print(f"      diff: {r.diff}")
    if summary["declined_codes"]:
        codes = ", ".join(f"{code} {n}" for code, n in summary["declined_codes"].items())
        print(f"\ndeclined: {summary['all']['declined']} ({codes})")
    t = summary["timings"]
    if "median_ms" in t:
        print(f"\ntimings: {t['total_seconds']:.1f} s in all; per question median {t['median_ms']:.0f} ms, "
              f"p95 {t['p95_ms']:.0f} ms, max {t['max_ms']:.0f} ms")
    print("\nthresholds:")
    for c in checks:
        print(f"  {c.name:28} {_pct(c.value):>7}  target {c.target:7} {'pass' if c.passed else 'FAIL'}")


def result_record(r: Result) -> dict:
    """Everything about one question, JSON-ready."""
    table = r.answer.table
    return {
        "id": r.question.id, "kind": r.question.kind, "level": r.question.level, "question": r.question.question,
        "verdict": r.verdict, "diff": r.diff, "error_code": r.answer.error_code,
        "error_message": r.answer.error_message, "answer_sql": r.answer.sql, "gold_sql": r.question.gold_sql,
        "answer_columns": table.columns if table else None, "answer_row_count": len(table.rows) if table else None,
        "answer_truncated": table.truncated if table else None,
        "answer_rows": table.rows[:20] if table else None,
        "gold_columns": r.gold.columns, "gold_row_count": len(r.gold.rows),
        "gold_rows": [[jsonable(v) for v in row] for row in r.gold.rows[:20]],
        "column_mapping": r.mapping, "seconds": round(r.seconds, 4), "service_timings": r.answer.timings,
    }
