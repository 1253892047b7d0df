"""The rewrite: every view reference scoped, the outer LIMIT capped, output executable as is."""

from __future__ import annotations

import doctest
import importlib

import pytest

from guardrails import check
from store.fields import VIEW_COLUMNS
from guardrails.allowlist import CAST_TYPE_NAMES, FUNCTION_NAMES, NODE_NAMES, VAR_PARENT_NAMES
from tests.reader import run_as_reader

SCOPED = "(SELECT * FROM nlq.pfa_merged WHERE organization_id = 'ORG_A')"

REWRITES = [
    ("SELECT id FROM pfa_merged",
     f"SELECT id FROM {SCOPED} AS pfa_merged LIMIT 1000"),
    ("SELECT m.id FROM nlq.pfa_merged AS m WHERE m.area = 'Silo 4' OR m.area = 'Camp'",
     f"SELECT m.id FROM {SCOPED} AS m WHERE m.area = 'Silo 4' OR m.area = 'Camp' LIMIT 1000"),
    ("SELECT a.id FROM pfa_merged a JOIN pfa_merged b ON a.class = b.class",
     f"SELECT a.id FROM {SCOPED} AS a JOIN {SCOPED} AS b ON a.class = b.class LIMIT 1000"),
    ("WITH x AS (SELECT * FROM PFA_MERGED) SELECT count(*) FROM x",
     f"WITH x AS (SELECT * FROM {SCOPED} AS pfa_merged) SELECT COUNT(*) FROM x LIMIT 1000"),
    ("SELECT sum(forecast_cost) OVER () FROM pfa_merged",
     f"SELECT SUM(forecast_cost) OVER () FROM {SCOPED} AS pfa_merged LIMIT 1000"),
    ("SELECT id FROM pfa_merged UNION SELECT id FROM pfa_merged",
     f"SELECT id FROM {SCOPED} AS pfa_merged UNION SELECT id FROM {SCOPED} AS pfa_merged LIMIT 1000"),
    ("SELECT a FROM pfa_merged p(a, b)",
     f"SELECT a FROM {SCOPED} AS p(a, b) LIMIT 1000"),
    ("SELECT 1 /* a comment */ FROM pfa_merged -- another",
     f"SELECT 1 FROM {SCOPED} AS pfa_merged LIMIT 1000"),
]


@pytest.mark.parametrize("sql, expected", REWRITES)
def test_rewrite(sql, expected):
    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert verdict.allowed, verdict.reasons
    assert verdict.sql == expected


def test_scope_describes_what_was_enforced():
    verdict = check("SELECT a.id FROM pfa_merged a, pfa_merged b", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=50)
    assert verdict.scope.organization_id == "ORG_A"
    assert verdict.scope.predicate == "organization_id = 'ORG_A'"
    assert verdict.scope.view_references == ["a", "b"]
    assert verdict.scope.limit == 50 and verdict.scope.max_rows == 50
    assert verdict.to_dict()["scope"]["view_references"] == ["a", "b"]


@pytest.mark.parametrize("tail, limit", [
    ("", 100), ("LIMIT 10", 10), ("LIMIT 100", 100), ("LIMIT 5000", 100), ("LIMIT ALL", 100),
    ("LIMIT NULL", 100), ("LIMIT 2 + 3", 100), ("FETCH FIRST 7 ROWS ONLY", 7), ("FETCH FIRST 700 ROWS ONLY", 100),
    ("LIMIT 99999999999999999999", 100), ("OFFSET 10", 100),
])
def test_outer_limit_is_capped(tail, limit):
    verdict = check(f"SELECT id FROM pfa_merged ORDER BY id {tail}", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=100)
    assert verdict.allowed, verdict.reasons
    assert verdict.scope.limit == limit
    assert verdict.sql.count("LIMIT") == 1 and f"ORDER BY id LIMIT {limit}" in verdict.sql


def test_limit_applies_to_a_set_operation_as_a_whole(two_orgs):
    verdict = check("SELECT id FROM pfa_merged UNION ALL SELECT id FROM pfa_merged", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=7)
    assert len(run_as_reader(two_orgs.reader, verdict.sql)) == 7


def test_inner_limits_are_left_alone():
    verdict = check("SELECT * FROM (SELECT id FROM pfa_merged LIMIT ALL) s", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=10)
    assert verdict.allowed and verdict.sql.endswith("LIMIT ALL) AS s LIMIT 10")


def test_percent_in_literals_runs_through_psycopg_unchanged(two_orgs):
    verdict = check("SELECT count(*) FROM pfa_merged WHERE class ILIKE '%crane%' AND id LIKE 'PFA-%'", view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert "'%crane%'" in verdict.sql
    (count,), = run_as_reader(two_orgs.reader, verdict.sql)
    assert count > 0


def test_quotes_in_literals_survive_the_round_trip(two_orgs):
    verdict = check("SELECT count(*) FROM pfa_merged WHERE area = 'O''Brien' OR area = $$it's$$", view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert verdict.allowed
    assert run_as_reader(two_orgs.reader, verdict.sql) == [(0,)]


def test_the_organization_is_quoted_by_sqlglot():
    verdict = check("SELECT 1 FROM pfa_merged", view_columns=VIEW_COLUMNS, org_id="A.B-1_c")
    assert "organization_id = 'A.B-1_c'" in verdict.sql


@pytest.mark.parametrize("org", ["", "ORG'B", "ORG B", "x" * 65, None, 42, "ORG_A; DROP", "ORG\nB"])
def test_an_invalid_organization_is_refused(org):
    verdict = check("SELECT 1 FROM pfa_merged", view_columns=VIEW_COLUMNS, org_id=org)
    assert not verdict.allowed and [r.code for r in verdict.reasons] == ["invalid_organization"]


@pytest.mark.parametrize("max_rows", [0, -1, "10", 1.5, True])
def test_max_rows_must_be_a_positive_integer(max_rows):
    with pytest.raises(ValueError):
        check("SELECT 1 FROM pfa_merged", view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=max_rows)


@pytest.mark.parametrize("sql", [None, b"SELECT 1", 42])
def test_sql_must_be_text(sql):
    with pytest.raises(TypeError):
        check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A")


def test_very_long_statements_are_refused_without_parsing():
    sql = "SELECT id FROM pfa_merged WHERE " + " AND ".join(["id <> 'x'"] * 3000)
    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert not verdict.allowed and "too_complex" in [r.code for r in verdict.reasons]


def test_deeply_nested_input_is_refused_not_crashing():
    sql = "SELECT " + "(" * 5000 + "1" + ")" * 5000 + " FROM pfa_merged"
    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert not verdict.allowed


def test_all_reasons_are_reported_once_each():
    verdict = check("SELECT pg_sleep(1), pg_sleep(1), version() FROM pg_class FOR UPDATE", view_columns=VIEW_COLUMNS, org_id="ORG_A")
    codes = [r.code for r in verdict.reasons]
    assert sorted(set(codes)) == ["forbidden_function", "locking_clause", "system_catalog"]
    assert len(verdict.reasons) == len({(r.code, r.message) for r in verdict.reasons})


def test_every_allowlisted_name_exists_in_this_sqlglot():
    """A sqlglot upgrade that renames a node would silently shrink the allowlist; fail instead."""
    from sqlglot import exp
    for name in (*NODE_NAMES, *FUNCTION_NAMES, *VAR_PARENT_NAMES):
        assert isinstance(getattr(exp, name, None), type), name
    for name in CAST_TYPE_NAMES:
        assert getattr(exp.DataType.Type, name, None) is not None, name


@pytest.mark.parametrize("module", ["guardrails", "guardrails.check", "guardrails.names"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("sql", [
    "SELECT id FROM pfa_merged ORDER BY id",
    "SELECT id FROM pfa_merged ORDER BY id LIMIT 5 OFFSET 10",
    "SELECT id FROM (SELECT id FROM pfa_merged ORDER BY id LIMIT 3) s",
    "SELECT id FROM pfa_merged UNION ALL SELECT id FROM pfa_merged ORDER BY 1 FETCH FIRST 4 ROWS ONLY",
    "WITH c AS (SELECT id FROM pfa_merged LIMIT 9) SELECT * FROM c",
])
def test_the_budget_statement_is_the_statement_without_any_limit(sql):
    import sqlglot
    from sqlglot import exp

    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=50)
    ran, budget = sqlglot.parse_one(verdict.sql, read="postgres"), sqlglot.parse_one(verdict.budget_sql, read="postgres")
    assert ran.sql(dialect="postgres") == verdict.sql  # generated text, stable on a round trip
    assert not list(budget.find_all(exp.Limit, exp.Fetch)) and "LIMIT" not in verdict.budget_sql
    for node in list(ran.find_all(exp.Limit, exp.Fetch)):
        node.pop()
    assert ran.sql(dialect="postgres") == verdict.budget_sql


@pytest.mark.parametrize("tail", ["FETCH FIRST 5 ROWS WITH TIES", "FETCH FIRST 10 PERCENT ROWS ONLY"])
def test_fetch_with_ties_or_percent_is_refused_rather_than_replaced(tail):
    verdict = check(f"SELECT id FROM pfa_merged ORDER BY forecast_cost {tail}", view_columns=VIEW_COLUMNS,
                    org_id="ORG_A")
    assert not verdict.allowed and [r.code for r in verdict.reasons] == ["forbidden_construct"]
