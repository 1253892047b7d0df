"""`vanguard eval`: the question set, its gold statements on the demo data, the scorer, and whole runs
through the service (a scripted OpenAI-compatible server, and the offline provider as a subprocess)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal

import psycopg
import pytest
import sqlglot
from psycopg_pool import AsyncConnectionPool
from sqlglot import exp

from nlq.config import Settings
from nlq.eval import add_arguments, run_eval
from nlq.eval.gold import run_gold
from nlq.eval.questions import HARD_ONLY, KINDS, SETS, QuestionSetError, load_questions, select_questions, set_path
from nlq.eval.demo import DEMO_ORGS, DEMO_RECORDS
from nlq.eval.score import DECLINE_CODES, Answer, Table, score
from nlq.seed import seed_demo
from store import accounts
from store.reader import ExecutionLimits, reset_reader_connection
from store.scope import scope_statements
from tests.fake_llm import Scripted, is_explanation

QUESTIONS = load_questions()
HELD_OUT = load_questions(set_path("heldout"))
BLIND = {name: load_questions(set_path(name)) for name in SETS if name != "heldout"}  # third, fourth, ...
ORG = "HOLNG"


# --- the set ---------------------------------------------------------------------------------

def test_the_set_is_well_formed_and_covers_every_kind():
    levels = Counter(q.level for q in QUESTIONS)
    assert len(QUESTIONS) >= 170
    assert levels["plain"] >= 95 and levels["hard"] >= 65, levels
    assert {q.kind for q in QUESTIONS} == set(KINDS)
    assert all(q.level == "hard" for q in QUESTIONS if q.kind in HARD_ONLY)
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert len({q.question.lower() for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        statement = sqlglot.parse_one(q.gold_sql, read="postgres")
        assert isinstance(statement, exp.Query), q.id


def test_the_held_out_set_is_well_formed_and_shares_no_question_with_the_shipped_set():
    levels = Counter(q.level for q in HELD_OUT)
    assert levels["plain"] >= 70 and levels["hard"] >= 50, levels
    assert len({q.id for q in HELD_OUT}) == len(HELD_OUT)
    assert all(q.level == "hard" for q in HELD_OUT if q.kind in HARD_ONLY)
    assert not {q.question.lower() for q in HELD_OUT} & {q.question.lower() for q in QUESTIONS}
    for q in HELD_OUT:
        assert isinstance(sqlglot.parse_one(q.gold_sql, read="postgres"), exp.Query), q.id


@pytest.mark.parametrize("name", list(BLIND))
def test_the_blind_sets_are_well_formed_and_share_no_question_with_the_earlier_ones(name):
    questions = BLIND[name]
    earlier = QUESTIONS + HELD_OUT + [q for other in list(BLIND)[:list(BLIND).index(name)] for q in BLIND[other]]
    levels = Counter(q.level for q in questions)
    assert levels["plain"] >= 80 and levels["hard"] >= 70, levels
    assert {q.kind for q in questions} == set(KINDS)
    assert len({q.id for q in questions}) == len(questions)
    assert all(q.level == "hard" for q in questions if q.kind in HARD_ONLY)
    assert not {q.question.lower() for q in questions} & {q.question.lower() for q in earlier}
    for q in questions:
        assert isinstance(sqlglot.parse_one(q.gold_sql, read="postgres"), exp.Query), (name, q.id)


@pytest.mark.parametrize("text, message", [
    ("[[question]]\nid = 'a'\nkind = 'count'\nlevel = 'plain'\nquestion = 'q'\n", "gold_sql must be a non-empty string"),
    ("[[question]]\nid = 'a'\nkind = 'count'\nlevel = 'easy'\nquestion = 'q'\ngold_sql = 'SELECT 1'\n", "level must be"),
    ("[[question]]\nid = 'a'\nkind = 'guess'\nlevel = 'plain'\nquestion = 'q'\ngold_sql = 'SELECT 1'\n", "kind must be"),
    ("[[question]]\nid = 'a'\nkind = 'window'\nlevel = 'plain'\nquestion = 'q'\ngold_sql = 'SELECT 1'\n", "are hard"),
    ("[[question]]\nid = 'a'\nkind = 'count'\nlevel = 'plain'\nquestion = 'q'\ngold_sql = 'SELECT 1'\nsql = 'x'\n",
     "unknown field(s) sql"),
    ("[[question]]\nid = 'a'\nkind = 'count'\nlevel = 'plain'\nquestion = 'q'\ngold_sql = 'SELECT 1'\n" * 2,
     "duplicate id 'a'"),
    ("[[question]\n", "not valid TOML"),
    ("title = 'nothing here'\n", "no [[question]] entries"),
])
def test_a_malformed_set_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "set.toml"
    path.write_text(text)
    with pytest.raises(QuestionSetError) as caught:
        load_questions(path)
    assert message in caught.value.message


def test_samples_are_reproducible_and_keep_file_order():
    first = select_questions(QUESTIONS, sample=12, seed=5)
    assert first == select_questions(QUESTIONS, sample=12, seed=5) != select_questions(QUESTIONS, sample=12, seed=6)
    assert [QUESTIONS.index(q) for q in first] == sorted(QUESTIONS.index(q) for q in first)
    assert {q.level for q in select_questions(QUESTIONS, level="hard")} == {"hard"}


# --- the gold statements on the demo data ------------------------------------------------------

@pytest.fixture(scope="module")
def demo(database_factory):
    """The demo data `vanguard eval` asks about, and the planner's user id."""
    urls = database_factory()
    with psycopg.connect(urls.app) as conn:
        seed_demo(conn, organizations=DEMO_ORGS, records=DEMO_RECORDS)
        user_id = accounts.find_user_by_username(conn, "planner")[0]
    return urls, user_id


def _ties_at_cut_off(reader: psycopg.Connection, user_id: int, gold_sql: str) -> list[str]:
    """Every ORDER BY ... LIMIT n in the statement, run on its own as FETCH FIRST n ROWS WITH TIES
    (the guardrails would widen that to the row cap, so as the reader directly): more than n rows
    means the first n are not the only right answer."""
    found = []
    root = sqlglot.parse_one(gold_sql, read="postgres")
    ctes = root.args.get("with_") or root.args.get("with")  # (the key's name differs between sqlglot versions)
    for select in root.find_all(exp.Select):
        limit = select.args.get("limit")
        if not (isinstance(limit, exp.Limit) and select.args.get("order")):
            continue
        n = int(limit.expression.name)
        with_ties = select.copy()
        if ctes is not None and select is not root:  # a subquery may read the statement's WITH tables
            with_ties.set("with_" if "with_" in root.args else "with", ctes.copy())
        with_ties.set("limit", exp.Fetch(direction="FIRST", count=exp.Literal.number(n),
                                         limit_options=exp.LimitOptions(rows=True, with_ties=True)))
        try:
            for statement in scope_statements(ORG, user_id):
                reader.execute(statement)
            rows = reader.execute(with_ties.sql("postgres"), prepare=True).fetchall()
        finally:
            reader.rollback()
        if len(rows) != n:
            found.append(f"LIMIT {n} has {len(rows)} rows with ties")
    return found


async def test_every_gold_statement_passes_the_guardrails_and_returns_rows_on_the_demo_data(demo):
    urls, user_id = demo
    failures = []
    with psycopg.connect(urls.reader) as reader:
        async with AsyncConnectionPool(urls.reader, min_size=1, max_size=1, open=False,
                                       reset=reset_reader_connection) as pool:
            for where, q in [("", q) for q in QUESTIONS] + [("held-out ", q) for q in HELD_OUT] + [
                    (f"{name} ", q) for name, questions in BLIND.items() for q in questions]:
                name = f"{where}{q.id}"
                try:
                    gold = await run_gold(pool, q.gold_sql, org_id=ORG, user_id=user_id, limits=ExecutionLimits())
                except Exception as exc:  # noqa: BLE001 - every failure is listed, not just the first
                    failures.append(f"{name}: {type(exc).__name__}: {getattr(exc, 'message', exc)}")
                    continue
                if not gold.rows or gold.truncated:
                    failures.append(f"{name}: {len(gold.rows)} rows{' (truncated)' if gold.truncated else ''}")
                failures.extend(f"{name}: {tie}" for tie in _ties_at_cut_off(reader, user_id, q.gold_sql))
    assert not failures, "\n".join(failures)


# --- the scorer ----------------------------------------------------------------------------------

GOLD = Table(columns=["category", "items", "cost"],
             rows=[["Cranes", 269, Decimal("176970419.34")], ["Welding", 259, Decimal("8884704.34")],
                   ["Vehicles", 231, Decimal("15587323.12")]])


def answer(columns, rows, **kw) -> Answer:
    return Answer(sql="SELECT ...", table=Table(columns=columns, rows=rows, **kw))


@pytest.mark.parametrize("case, columns, rows", [
    ("renamed columns", ["Category", "n", "total_forecast_cost"],
     [["Cranes", 269, 176970419.34], ["Welding", 259, 8884704.34], ["Vehicles", 231, 15587323.12]]),
    ("reordered columns and rows", ["total", "records", "category"],
     [[15587323.12, 231, "Vehicles"], [176970419.34, 269, "Cranes"], [8884704.34, 259, "Welding"]]),
    ("extra columns", ["category", "source_count", "items", "cost", "avg"],
     [["Cranes", 2, 269, 176970419.34, 1.5], ["Welding", 2, 259, 8884704.34, 1.5], ["Vehicles", 2, 231, 15587323.12, 1.5]]),
    ("rounding", ["category", "items", "cost"],
     [["Cranes", 269.0, 176970419.3449], ["Welding", 259, 8884704.335], ["Vehicles", 231, 15587323.1249]]),
])
def test_the_scorer_accepts_the_same_rows_however_they_are_named_and_ordered(case, columns, rows):
    result = score(GOLD, answer(columns, rows))
    assert result.verdict == "right", (case, result.diff)
    assert set(result.mapping) == {"category", "items", "cost"}


@pytest.mark.parametrize("case, rows, diff", [
    ("a missing row", [["Cranes", 269, 176970419.34], ["Welding", 259, 8884704.34]], "2 row(s), expected 3"),
    ("an extra row", [["Cranes", 269, 176970419.34], ["Welding", 259, 8884704.34], ["Vehicles", 231, 15587323.12],
                      ["Scaffolding", 257, 8665937.0]], "4 row(s), expected 3"),
    ("a value off by more than a cent", [["Cranes", 269, 176970419.34], ["Welding", 259, 8884704.36],
                                         ["Vehicles", 231, 15587323.12]], "gold column 'cost'"),
    ("other case", [["cranes", 269, 176970419.34], ["welding", 259, 8884704.34], ["vehicles", 231, 15587323.12]],
     "gold column 'category'"),
    ("values swapped between rows", [["Cranes", 259, 176970419.34], ["Welding", 269, 8884704.34],
                                     ["Vehicles", 231, 15587323.12]], "not row by row"),
])
def test_the_scorer_calls_different_rows_wrong(case, rows, diff):
    result = score(GOLD, answer(["category", "items", "cost"], rows))
    assert result.verdict == "wrong" and diff in result.diff, (case, result.diff)


def test_a_missing_gold_column_is_wrong_even_when_the_rest_matches():
    result = score(GOLD, answer(["category", "items"], [["Cranes", 269], ["Welding", 259], ["Vehicles", 231]]))
    assert result.verdict == "wrong" and "gold column 'cost'" in result.diff


def test_two_gold_columns_need_two_answer_columns():
    gold = Table(columns=["min_rate", "max_rate"], rows=[[5000, 5000]])
    assert score(gold, answer(["rate"], [[5000]])).verdict == "wrong"
    assert score(gold, answer(["lowest", "highest"], [[5000, 5000.0]])).verdict == "right"


def test_dates_compare_as_iso_text_and_timestamps_at_midnight_as_their_date():
    gold = Table(columns=["quarter", "n"], rows=[[datetime(2027, 1, 1, tzinfo=timezone.utc), 3],
                                                 [date(2027, 4, 1), 4]])
    assert score(gold, answer(["q", "count"], [["2027-01-01", 3], ["2027-04-01T00:00:00+00:00", 4]])).verdict == "right"
    assert score(gold, answer(["q", "count"], [["2027-01-02", 3], ["2027-04-01", 4]])).verdict == "wrong"


@pytest.mark.parametrize("code", sorted(DECLINE_CODES))
def test_refusals_are_declined_with_their_code(code):
    result = score(GOLD, Answer(error_code=code, error_message="cannot answer"))
    assert result.verdict == "declined" and result.diff.startswith(code)


@pytest.mark.parametrize("code", ["db_error", "timeout", "over_budget", "llm_bad_output", "http_error"])
def test_other_failures_are_errors_not_declines(code):
    assert score(GOLD, Answer(error_code=code, error_message="boom")).verdict == "error"


def test_a_truncated_answer_says_so():
    result = score(GOLD, answer(["category"], [["Cranes"]] * 5, truncated=True))
    assert result.verdict == "wrong" and "5 row(s) (truncated), expected 3" in result.diff


# --- whole runs through the service ----------------------------------------------------------

def eval_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def _user_question(body: dict) -> str:
    user = body["messages"][-1]["content"]
    return user.split("\n", 1)[0].removeprefix("Question: ").strip()


def script_answers(fake_llm, statements: dict[str, str]) -> None:
    """The model answers each question (also in repair rounds) with its statement."""
    def respond(body: dict):
        if is_explanation(body):
            return Scripted(chunks=["What the statement computes."])
        return json.dumps({"sql": statements[_user_question(body)], "explanation": "x"})

    fake_llm.responder = respond


def test_an_eval_with_the_gold_statements_as_answers_is_all_right_and_exits_0(db, fake_llm, tmp_path, capsys):
    args = eval_args("--sample", "8", "--seed", "3", "--json", str(tmp_path / "out.json"))
    chosen = select_questions(QUESTIONS, sample=8, seed=3)
    script_answers(fake_llm, {q.question: q.gold_sql for q in chosen})
    settings = Settings(llm_base_url=fake_llm.base_url, llm_api_key="test", llm_model="scripted")
    status = run_eval(settings, args, database=lambda: contextlib.nullcontext(db))
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out.json").read_text())
    assert status == 0 and report["exit_status"] == 0, out
    assert [r["id"] for r in report["results"]] == [q.id for q in chosen]
    assert {r["verdict"] for r in report["results"]} == {"right"}
    assert report["summary"]["all"]["right_share"] == 1.0
    assert report["provider"] == "openai" and report["model"] == "scripted"
    assert all(c["passed"] for c in report["thresholds"])
    assert "provider openai (scripted)" in out and "wrong answers and errors: none" in out


def test_wrong_rows_refusals_and_errors_are_told_apart_and_exit_1(db, fake_llm, tmp_path, capsys):
    chosen = select_questions(QUESTIONS, sample=6, seed=11)
    wrong, refused, failing = chosen[0], chosen[1], chosen[2]
    statements = {q.question: q.gold_sql for q in chosen}
    statements[wrong.question] = "SELECT id FROM pfa_merged WHERE id = 'no such record'"
    statements[refused.question] = "DELETE FROM pfa_merged"
    statements[failing.question] = "SELECT 1 / (count(*) - count(*)) AS boom FROM pfa_merged"
    script_answers(fake_llm, statements)
    args = eval_args("--sample", "6", "--seed", "11", "--json", str(tmp_path / "out.json"))
    settings = Settings(llm_base_url=fake_llm.base_url, llm_api_key="test", llm_model="scripted")
    status = run_eval(settings, args, database=lambda: contextlib.nullcontext(db))
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out.json").read_text())
    verdicts = {r["id"]: r for r in report["results"]}
    assert status == 1 and report["exit_status"] == 1
    assert verdicts[wrong.id]["verdict"] == "wrong" and "expected" in verdicts[wrong.id]["diff"]
    assert verdicts[refused.id]["verdict"] == "declined" and verdicts[refused.id]["error_code"] == "rejected"
    assert verdicts[failing.id]["verdict"] == "error" and verdicts[failing.id]["error_code"] == "db_error"
    assert all(verdicts[q.id]["verdict"] == "right" for q in chosen[3:])
    assert report["summary"]["declined_codes"] == {"rejected": 1}
    assert f"[{wrong.id}] wrong: {wrong.question}" in out and f"[{failing.id}] error" in out
    assert "FAIL" in out


def vanguard(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VANGUARD_") and k != "OPENAI_API_KEY"}
    return subprocess.run([sys.executable, "-m", "nlq.cli", *args], env=clean, capture_output=True, text=True,
                          timeout=timeout)


def test_vanguard_eval_with_the_offline_provider_prints_the_report_and_exits_by_the_thresholds(tmp_path):
    """Shape and exit status only: the offline parser's accuracy is what docs/eval.md reports."""
    out = tmp_path / "eval.json"
    result = vanguard("eval", "--sample", "10", "--seed", "2", "--json", str(out))
    report = json.loads(out.read_text())
    assert result.returncode == (0 if all(c["passed"] for c in report["thresholds"]) else 1), result.stderr[-2000:]
    assert report["exit_status"] == result.returncode and report["provider"] == "offline"
    assert report["summary"]["all"]["questions"] == 10 and len(report["results"]) == 10
    assert sum(report["summary"]["all"][v] for v in ("right", "declined", "wrong", "error")) == 10
    assert {c["name"] for c in report["thresholds"]} <= {"plain right", "hard right", "plain wrong (with errors)",
                                                         "hard wrong (with errors)"}
    for record in report["results"]:
        assert {"id", "kind", "level", "question", "verdict", "answer_sql", "gold_sql", "diff", "seconds"} <= set(record)
    for line in ("vanguard eval: 10 questions", "provider offline", "level ", "kind ", "thresholds:", "timings:"):
        assert line in result.stdout, line


def test_vanguard_eval_takes_a_shipped_set_by_its_name(tmp_path):
    out = tmp_path / "eval.json"
    vanguard("eval", "--set", "seventh", "--sample", "4", "--json", str(out))
    report = json.loads(out.read_text())
    assert {r["id"] for r in report["results"]} <= {q.id for q in BLIND["seventh"]}
    assert {r["question"] for r in report["results"]} <= {q.question for q in BLIND["seventh"]}
    assert len(report["results"]) == 4


@pytest.mark.parametrize("args, message", [
    (("--level", "medium"), "invalid choice"),
    (("--max-wrong", "3"), "between 0 and 1"),
    (("--sample", "0"), "at least 1"),
    (("--org", "NOPE"), "the demo organizations are HOLNG, RIOT, PORTX"),
    (("--org", "RIOT", "--user", "viewer"), "not a demo user who can ask in RIOT"),
    (("--set", "/nonexistent/set.toml"), "cannot read the question set"),
])
def test_vanguard_eval_explains_bad_arguments_and_exits_2(args, message):
    result = vanguard("eval", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
