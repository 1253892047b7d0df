"""Demo seeding: organizations, records, users with memberships, KPIs refreshed — all or nothing."""

from __future__ import annotations

import psycopg
import pytest

from nlq.auth.passwords import verify_password
from nlq.seed import DEMO_USERS, database_is_empty, seed_demo
from store import accounts


def test_seed_loads_everything_and_refreshes_kpis(app_conn):
    assert database_is_empty(app_conn)
    codes = seed_demo(app_conn, organizations=2, records=300)
    assert not database_is_empty(app_conn)
    assert app_conn.execute("SELECT organization_id, count(*) FROM vanguard.pfa_mirror GROUP BY 1 ORDER BY 1"
                            ).fetchall() == sorted((c, 300) for c in codes)
    kpi = app_conn.execute("SELECT organization_id, sum(records), sum(forecast_cost) FROM vanguard.kpi_category_source"
                           " GROUP BY 1 ORDER BY 1").fetchall()
    direct = app_conn.execute("SELECT organization_id, count(*), sum(forecast_cost) FROM vanguard.pfa_mirror"
                              " GROUP BY 1 ORDER BY 1").fetchall()
    assert kpi == direct
    for user in DEMO_USERS:
        row = accounts.find_user_by_username(app_conn, user.username)
        assert verify_password(row[3], user.password)
        assert not verify_password(row[3], user.password + "x")
        roles = app_conn.execute("SELECT organization_id, role FROM vanguard.memberships WHERE user_id = %s"
                                 " ORDER BY 1", (row[0],)).fetchall()
        expected = codes if user.organizations == "all" else codes[:1]
        assert roles == [(c, user.role) for c in sorted(expected)]
        assert [(c, sees) for c, _, sees in accounts.memberships_of(app_conn, row[0])] == [
            (c, user.sees_costs) for c in sorted(expected)]
    assert any(not u.sees_costs for u in DEMO_USERS)  # the demo shows the masking


def test_a_failed_seed_leaves_nothing(app_conn):
    accounts.upsert_organization(app_conn, "HOLNG", "pre-existing")
    app_conn.execute("INSERT INTO vanguard.pfa_mirror (organization_id, id, data) VALUES ('HOLNG', 'PFA-0000002', '{}')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        seed_demo(app_conn, organizations=1, records=10)
    assert app_conn.execute("SELECT count(*) FROM vanguard.pfa_mirror").fetchone() == (1,)
    assert app_conn.execute("SELECT count(*) FROM vanguard.users").fetchone() == (0,)
