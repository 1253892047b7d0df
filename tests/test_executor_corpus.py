"""The executor corpus: statements the guardrails allow that the executor must stop before they run
(over_budget, with no estimate in the message) or whose errors it must reduce to SQLSTATE and a
fixed message (no row value)."""

from __future__ import annotations

from collections import Counter

import pytest

from guardrails.corpus import load
from nlq.guard import guard
from store.reader import ExecutionLimits, OverBudget, QueryError
from tests.reader_fixtures import collect

CASES = load("executor")
CANARIES = ("CANARY-7f3a", "68151")


def test_the_executor_corpus_covers_its_classes():
    classes = Counter(c.group for c in CASES)
    assert classes["row_cap"] >= 5 and classes["error_text"] >= 5


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.group}:{c.title}")
async def test_the_executor_stops_or_sanitizes(reader, app_conn, case):
    pool, user = reader
    app_conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"CANARY-7f3a\", \"monthlyRate\": \"68151\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = 'PFA-0000005'")
    verdict = guard(case.sql, org_id="ORG_A")
    assert verdict.allowed, verdict.reasons
    expected = OverBudget if case.expect == "over_budget" else QueryError
    with pytest.raises(expected) as err:
        await collect(pool, verdict.sql, user, ExecutionLimits(), budget_statement=verdict.budget_sql)
    if case.expect == "over_budget":
        assert not any(ch.isdigit() for ch in err.value.message)
    else:
        assert not isinstance(err.value, OverBudget)
        shown = err.value.message + repr(err.value.details)
        assert not any(canary in shown for canary in CANARIES)
        assert err.value.details["class_name"] != "unknown"
