"""The guardrails' policy in words (`guardrails/policy.py`): it names exactly what the allowlist and
the rules decide, in spellings PostgreSQL knows."""

from __future__ import annotations

import doctest

import psycopg
import pytest

import guardrails.policy as policy_module
from guardrails import check, errors
from guardrails.allowlist import ALLOWED_FUNCTION_NAMES, ALLOWED_FUNCTIONS
from guardrails.policy import (COMMON_ATTEMPTS, POSTGRES_SPELLINGS, allowed_casts, allowed_functions, refusal_classes,
                               refusals, refused_examples)
from store.fields import VIEW_COLUMNS

# Ways to call a function with plausible arguments; a name is allowed when one of them passes.
CALLS = ("{f}(plan_cost)", "{f}(plan_cost, 2)", "{f}('month', plan_start)", "{f}(area, ',')", "{f}(area, 'a', 'b')",
         "{f}(plan_start, 'YYYY')", "{f}(2026, 1, 1)", "{f}", "{f}() OVER (ORDER BY id)", "{f}(plan_cost) OVER (ORDER BY id)",
         "{f}(0.5) WITHIN GROUP (ORDER BY plan_cost)", "{f}() WITHIN GROUP (ORDER BY plan_cost)",
         "{f}(year FROM plan_start)", "{f}('a' IN area)", "{f}(plan_cost, monthly_rate)", "{f}(data)")
# PostgreSQL grammar rather than catalog functions (no pg_proc row).
SYNTAX = {"coalesce", "greatest", "least", "nullif", "current_date", "current_timestamp", "trim"}


def _accepted(name: str) -> bool:
    for call in CALLS:
        verdict = check(f"SELECT {call.format(f=name)} AS x FROM pfa_merged", org_id="ORG_A", view_columns=VIEW_COLUMNS)
        if verdict.allowed:
            return True
    return False


def test_every_allowed_function_node_has_its_postgres_spelling():
    assert {node.__name__ for node in ALLOWED_FUNCTIONS} <= POSTGRES_SPELLINGS.keys()


@pytest.mark.parametrize("name", allowed_functions())
def test_every_listed_function_is_accepted_by_the_guardrails(name):
    assert _accepted(name), f"{name} is listed as allowed but every call of it is refused"


def test_the_list_holds_every_accepted_name_and_nothing_the_guardrails_refuse():
    listed = set(allowed_functions())
    assert {name for name in ALLOWED_FUNCTION_NAMES if _accepted(name)} <= listed
    for refused in ("generate_series", "regexp_replace", "pg_sleep", "set_config", "array_agg", "json_agg",
                    "query_to_xml", "repeat", "lpad", "div", "cbrt"):
        assert refused not in listed
        assert not _accepted(refused), refused
    for foreign in ("median", "group_concat", "iif", "nvl"):  # other dialects' names sqlglot reads; PostgreSQL has none
        assert foreign not in listed


def test_every_listed_function_exists_in_postgresql(db):
    with psycopg.connect(db.admin) as conn:
        known = {row[0] for row in conn.execute("SELECT DISTINCT proname FROM pg_proc WHERE proname = ANY(%s)",
                                                (list(allowed_functions()),))}
    assert set(allowed_functions()) - known - SYNTAX == set()


@pytest.mark.parametrize("type_name", allowed_casts())
def test_every_listed_cast_is_accepted(type_name):
    assert check(f"SELECT plan_cost::{type_name} FROM pfa_merged", org_id="ORG_A", view_columns=VIEW_COLUMNS).allowed
    assert "regclass" not in allowed_casts() and "oid" not in allowed_casts()


def test_refusals_name_every_rule_error_once():
    everything = {v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, errors.GuardrailError)}
    assert set(refusal_classes()) == everything - {errors.GuardrailError, errors.ParseFailure, errors.InvalidOrganization}
    codes = [code for code, _ in refusals()]
    assert len(codes) == len(set(codes)) == len(refusal_classes())
    assert all(rule.endswith(".") and len(rule) < 160 for _, rule in refusals())


def test_common_attempts_are_all_refused_so_all_are_listed():
    for text, probe in COMMON_ATTEMPTS:
        assert not check(probe, org_id="ORG_A", view_columns=VIEW_COLUMNS).allowed, text
    assert refused_examples() == tuple(text for text, _ in COMMON_ATTEMPTS)


def test_doctests():
    assert doctest.testmod(policy_module).failed == 0
