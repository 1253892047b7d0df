"""Value grounding on the sqlglot tree (nlq/ask/grounding.py) and value matching (nlq/ask/matching.py),
over a vocabulary built from the demo catalog: no database needed."""

from __future__ import annotations

import doctest

import pytest

import nlq.ask.grounding
import nlq.ask.matching
from nlq.ask.grounding import Binding, check_bindings, ground
from nlq.ask.vocabulary import MAX_VALUES, Vocabulary, _columns
from nlq.errors import InvalidRequest
from nlq.guard import guard
from store.demo_data import AREAS, CATALOG


def demo_vocabulary(**extra: tuple[str, ...]) -> Vocabulary:
    rows = [("category", c) for c in CATALOG] + [("area", a) for a in AREAS]
    for classes, makers in ((spec[1], spec[2]) for spec in CATALOG.values()):
        rows += [("class", c) for c in classes] + [("manufacturer", m) for m, _ in makers]
        rows += [("model", m) for _, m in makers]
    columns = _columns(list(dict.fromkeys(rows)))
    columns.update(extra)
    return Vocabulary("ORG_A", columns)


VOCABULARY = demo_vocabulary()


def grounded(sql: str, vocabulary: Vocabulary = VOCABULARY, bindings=()):
    verdict = guard(sql, org_id="ORG_A", max_rows=1001)
    assert verdict.allowed, verdict.reasons
    return ground(sql, verdict, vocabulary, org_id="ORG_A", max_rows=1001, bindings=bindings)


@pytest.mark.parametrize("module", [nlq.ask.grounding, nlq.ask.matching])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("sql, rewritten", [
    ("SELECT id FROM pfa_merged WHERE lower(category) = 'crane'", "LOWER(category) = 'cranes'"),
    ("SELECT id FROM pfa_merged WHERE upper(area) = 'SILO FOUR'", "UPPER(area) = 'SILO 4'"),
    ("SELECT id FROM pfa_merged WHERE category::text <> 'crane'", "CAST(category AS TEXT) <> 'Cranes'"),
    ("SELECT id FROM pfa_merged p WHERE p.area NOT IN ('silo 1', 'Silo 2')", "NOT p.area IN ('Silo 1', 'Silo 2')"),
    ("WITH t AS (SELECT category AS c FROM pfa_merged) SELECT count(*) FROM t WHERE c = 'Crane'", "c = 'Cranes'"),
    ("SELECT count(*) FROM (SELECT manufacturer AS m FROM pfa_merged) s WHERE s.m = 'CAT'", "s.m = 'Caterpillar'"),
    ("SELECT id FROM pfa_merged WHERE class ILIKE '%cranes%'", "class ILIKE '%crane%'"),
    ("SELECT id FROM pfa_merged WHERE category ILIKE 'Earthmovng%'", "category ILIKE 'Earthmoving%'"),
    ("SELECT id FROM pfa_merged WHERE lower(area) LIKE '%silo four%'", "LOWER(area) LIKE '%silo 4%'"),
    ("SELECT id FROM pfa_merged WHERE 'crane' = lower(category)", "'cranes' = LOWER(category)"),
    ("SELECT count(*) FILTER (WHERE source = 'rental') FROM pfa_merged", "source = 'Rental'"),
])
def test_literals_are_rewritten_where_they_are_compared(sql, rewritten):
    result = grounded(sql)
    assert rewritten in result.sql and not result.clarify
    assert result.verdict.allowed and "organization_id = 'ORG_A'" in result.verdict.sql


@pytest.mark.parametrize("sql", [
    "SELECT id FROM pfa_merged WHERE category = 'Cranes' AND area = 'Silo 4'",          # exact
    "SELECT id FROM pfa_merged WHERE lower(category) = 'cranes'",                      # exact once lowered
    "SELECT id FROM pfa_merged WHERE category ILIKE '%crane%'",                        # the pattern matches
    "SELECT id FROM pfa_merged WHERE id = 'pfa-1' AND equipment_tag = 'eq 1'",         # not grounded columns
    "SELECT id FROM pfa_merged WHERE category_description = 'lifting'",
    "SELECT id FROM pfa_merged WHERE plan_start > '2025-01-01' AND monthly_rate > 5",  # dates, numbers
    "SELECT id FROM pfa_merged WHERE upper(category) || 'x' = 'crane'",                # not the column itself
    "SELECT id FROM pfa_merged WHERE category LIKE '%c_a%e%'",                         # wildcards inside
    "SELECT id FROM pfa_merged WHERE category = 'Silo' OR area = 'Nowhere'",            # hedged: ask nothing
    "WITH t AS (SELECT upper(category) || '' AS c FROM pfa_merged) SELECT c FROM t WHERE c = 'crane'",
])
def test_what_is_exact_or_not_a_grounded_comparison_is_left_alone(sql):
    result = grounded(sql)
    assert result.rewrites == [] and result.clarify == [] and result.sql == sql


def test_a_hedged_literal_is_still_rewritten_when_confident():
    result = grounded("SELECT id FROM pfa_merged WHERE category = 'Crane' OR class ILIKE '%lift%'")
    assert "category = 'Cranes'" in result.sql and result.clarify == []


def test_several_literals_are_asked_about_together_and_once_each():
    result = grounded("SELECT id FROM pfa_merged WHERE area = 'Silo' AND category = 'Pumps' "
                      "UNION SELECT id FROM pfa_merged WHERE area = 'Silo' AND category = 'Pumps'")
    assert [(c["column"], c["from"], c["reason"]) for c in result.clarify] == [
        ("area", "Silo", "ambiguous"), ("category", "Pumps", "no_match")]


def test_numbers_are_identities_not_spellings():
    result = grounded("SELECT id FROM pfa_merged WHERE area = 'Silo 44'")
    assert result.rewrites == [] and result.clarify[0]["reason"] == "no_match"


def test_a_column_with_a_huge_vocabulary_is_not_grounded():
    huge = demo_vocabulary(model=tuple(f"M{i}" for i in range(MAX_VALUES + 1)))
    assert grounded("SELECT id FROM pfa_merged WHERE model = 'm1'", huge).rewrites == []
    assert grounded("SELECT id FROM pfa_merged WHERE model = 'pc 360'").rewrites[0]["to"] == "PC360"


def test_a_binding_decides_and_only_its_own_literal():
    bindings = [Binding("area", "Silo", "Silo 3")]
    result = grounded("SELECT id FROM pfa_merged WHERE area = 'silo' AND category = 'Crane'", bindings=bindings)
    assert "area = 'Silo 3'" in result.sql and "category = 'Cranes'" in result.sql
    assert [r["how"] for r in result.rewrites] == ["your choice", "singular/plural"]
    pattern = grounded("SELECT id FROM pfa_merged WHERE area ILIKE '%silo%%'", bindings=[
        Binding("area", "%silo%%", "Silo_3")], vocabulary=demo_vocabulary(area=("Silo_3", "Silo 4")))
    assert "ILIKE '%Silo\\\\_3%%'" in pattern.sql or "ILIKE '%Silo\\_3%%'" in pattern.sql


def test_bindings_must_name_a_grounded_column_and_a_stored_value():
    check_bindings([Binding("area", "x", "Silo 4")], VOCABULARY)
    for bad in ([Binding("area", "x", "Silo 7")], [Binding("id", "x", "PFA-1")], [Binding("zzz", "x", "y")],
                [Binding("area", "x", "Silo 4")] * 11):
        with pytest.raises(InvalidRequest):
            check_bindings(bad, VOCABULARY)


def test_the_rewritten_statement_is_checked_by_the_guardrails_again():
    result = grounded("SELECT count(*) FROM pfa_merged a JOIN pfa_merged b ON a.id = b.id WHERE a.category = 'crane'")
    assert result.verdict.sql.count("organization_id = 'ORG_A'") == 2 and "'Cranes'" in result.verdict.sql
    assert result.verdict.scope.view_references == ['a', 'b']


def test_a_stored_value_with_quotes_and_wildcards_is_written_as_a_literal_node():
    vocabulary = demo_vocabulary(area=("O'Brien Yard", "50% Zone"))
    result = grounded("SELECT id FROM pfa_merged WHERE area = 'o''brien yard' OR area = '50% zone'", vocabulary)
    assert "area = 'O''Brien Yard'" in result.sql and "area = '50% Zone'" in result.sql and result.verdict.allowed
    pattern = grounded("SELECT id FROM pfa_merged WHERE area LIKE '50 zone%'", vocabulary)
    assert "LIKE '50\\% Zone%'" in pattern.sql  # the value's own % is escaped: it matches itself only
