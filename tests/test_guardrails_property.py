"""Property: whatever WHERE clause is generated, an allowed rewrite returns exactly the caller's
rows — checked on a database whose view does no scoping of its own."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardrails import check
from store.fields import VIEW_COLUMNS
from tests.guardrails_fixtures import run_as_admin

TEXT_COLUMNS = ("p.category", "p.area", "p.source", "p.dor", "p.class", "p.id", "p.organization_id", "p.data->>'area'")
VALUES = ("'Cranes'", "'Silo 4'", "'Rental'", "'BEO'", "'ORG_A'", "'ORG_B'", "'PFA-0000007'", "''", "'%'")
NUMBER_COLUMNS = ("p.monthly_rate", "p.purchase_price", "p.forecast_cost", "p.cost_variance")

atoms = st.one_of(
    st.builds(lambda c, o, v: f"{c} {o} {v}", st.sampled_from(TEXT_COLUMNS), st.sampled_from(("=", "<>", ">", "LIKE")),
              st.sampled_from(VALUES)),
    st.builds(lambda c, o, n: f"{c} {o} {n}", st.sampled_from(NUMBER_COLUMNS), st.sampled_from(("=", "<", ">=")),
              st.integers(-10, 200_000)),
    st.sampled_from((
        "p.organization_id = p.organization_id", "p.id = p.id", "p.monthly_rate IS NULL",
        "p.monthly_rate IS NOT NULL", "p.is_actualized", "1 = 1", "true",
        "EXISTS (SELECT 1 FROM pfa_merged q WHERE q.id = p.id AND q.organization_id <> p.organization_id)",
        "p.id IN (SELECT id FROM pfa_merged WHERE area = 'Camp')",
        "p.organization_id IN (SELECT organization_id FROM pfa_merged)",
        "(SELECT count(*) FROM pfa_merged) > 300",
        "p.forecast_start < DATE '2026-01-01'",
    )),
)
conditions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"NOT ({a})", inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=conditions)
def test_rewrite_never_returns_another_organizations_rows(where, unscoped_two_orgs, unscoped_one_org):
    sql = (f"SELECT p.organization_id, p.id, count(*) OVER () AS seen, "
           f"(SELECT count(*) FROM pfa_merged) AS total FROM pfa_merged p WHERE {where}")
    verdict = check(sql, view_columns=VIEW_COLUMNS, org_id="ORG_A", max_rows=10_000)
    if not verdict.allowed:
        return
    rows = run_as_admin(unscoped_two_orgs, verdict.sql)
    assert all(row[0] == "ORG_A" for row in rows)
    assert all(row[3] == 300 for row in rows)  # even a scalar subquery counts only the caller's rows
    assert sorted(rows) == sorted(run_as_admin(unscoped_one_org, sql))
