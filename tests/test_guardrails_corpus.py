"""The attack corpus is refused; the benign corpus is allowed and, rewritten and run as the reader
on a two-organization database, returns exactly what it returns on a database of one organization."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import psycopg
import pytest

from guardrails import check
from store.fields import VIEW_COLUMNS
from guardrails.corpus import load
from tests.guardrails_fixtures import run_as_admin
from tests.reader import run_as_reader

ATTACKS = load("attacks")
BENIGN = load("benign")


def test_the_corpora_are_big_enough_and_cover_every_class():
    assert len(ATTACKS) >= 150 and len(BENIGN) >= 60
    assert len({c.title for c in ATTACKS}) == len(ATTACKS)
    assert len({c.title for c in BENIGN}) == len(BENIGN)
    classes = Counter(c.group for c in ATTACKS)
    for group in ("writes", "stacked", "side_effects", "files_network", "catalog", "cross_org", "locking",
                  "resources", "obfuscation", "shadowing", "placeholders"):
        assert classes[group] >= 5, group


@pytest.mark.parametrize("case", ATTACKS, ids=lambda c: f"{c.group}:{c.title}")
def test_attack_is_refused_for_the_expected_reason(case):
    verdict = check(case.sql, view_columns=VIEW_COLUMNS, org_id="ORG_A")
    assert not verdict.allowed and verdict.sql is None and verdict.scope is None
    codes = [r.code for r in verdict.reasons]
    assert case.expect in codes, verdict.reasons
    assert all(r.message for r in verdict.reasons)


def _normal(rows: list[tuple]) -> list[str]:
    """Rows as comparable text, order-free; numbers compared by value (sqlglot writes date_part as
    EXTRACT, which PostgreSQL answers as numeric instead of double precision)."""
    def value(v):
        if isinstance(v, (float, Decimal)):
            return round(float(v), 6)
        return v
    return sorted(repr(tuple(value(v) for v in row)) for row in rows)


def _alice(urls) -> int:
    with psycopg.connect(urls.app) as conn:
        return conn.execute("SELECT id FROM vanguard.users WHERE username = 'alice'").fetchone()[0]


@pytest.mark.parametrize("case", BENIGN, ids=lambda c: f"{c.group}:{c.title}")
def test_benign_query_is_allowed_and_scoped_exactly(case, two_orgs, one_org):
    user = _alice(two_orgs)
    assert user == _alice(one_org)
    verdict = check(case.sql, view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=100_000)
    assert verdict.allowed, verdict.reasons
    assert verdict.scope.view_references
    scoped = run_as_reader(two_orgs.reader, verdict.sql, "ORG_A", user)
    original = run_as_reader(one_org.reader, case.sql.rstrip().rstrip(";"), "ORG_A", user)
    assert _normal(scoped) == _normal(original)


@pytest.mark.parametrize("case", BENIGN, ids=lambda c: f"{c.group}:{c.title}")
def test_the_rewrite_alone_confines_benign_queries(case, unscoped_two_orgs, unscoped_one_org):
    """With the database's own scoping removed, the rewritten query still sees one organization."""
    verdict = check(case.sql, view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=100_000)
    scoped = run_as_admin(unscoped_two_orgs, verdict.sql)
    original = run_as_admin(unscoped_one_org, case.sql.rstrip().rstrip(";"))
    assert _normal(scoped) == _normal(original)


def test_the_unscoped_database_really_shows_both_organizations(unscoped_two_orgs):
    """Without this, the test above could pass for the wrong reason."""
    rows = run_as_admin(unscoped_two_orgs, "SELECT organization_id, count(*) FROM pfa_merged GROUP BY 1 ORDER BY 1")
    assert rows == [("ORG_A", 300), ("ORG_B", 300)]
