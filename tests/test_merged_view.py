"""nlq.pfa_merged: the organization's mirror with the caller's working drafts, and nothing else."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from store import demo_data
from store.scope import scope_statements
from tests.helpers import add_draft, add_org, add_records, add_user


def merged(url: str, org: str | None, user: int | None, where: str = "", params: tuple = ()) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        if org is not None:
            for statement in scope_statements(org, user):
                conn.execute(statement)
        cur = conn.execute(f"SELECT * FROM nlq.pfa_merged {where}", params)
        names = [d.name for d in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


@pytest.fixture
def world(app_conn):
    """Two organizations of 50 records each; alice and bob in ORG_A, carol in ORG_B."""
    for org in ("ORG_A", "ORG_B"):
        add_org(app_conn, org)
        add_records(app_conn, list(demo_data.generate_records(org, 50)))
    return {
        "alice": add_user(app_conn, "alice", {"ORG_A": "editor"}),
        "bob": add_user(app_conn, "bob", {"ORG_A": "editor"}),
        "carol": add_user(app_conn, "carol", {"ORG_B": "editor"}),
    }


def test_only_the_scoped_organization_is_visible(db, world):
    rows = merged(db.app, "ORG_A", world["alice"])
    assert len(rows) == 50
    assert {r["organization_id"] for r in rows.values()} == {"ORG_A"}


@pytest.mark.parametrize("org", [None, "", "ORG_NONE"])
def test_unset_empty_or_unknown_organization_sees_nothing(db, world, org):
    assert merged(db.app, org, None) == {}


def test_the_callers_draft_overlays_the_mirror(db, world, app_conn):
    rid = demo_data.record_id(3)
    add_draft(app_conn, "ORG_A", world["alice"], rid,
              {"forecastEnd": "2030-01-31", "monthlyRate": 1000, "source": "Rental", "area": "Silo 9"})
    rows = merged(db.app, "ORG_A", world["alice"])
    assert len(rows) == 50  # the draft replaces its record, it does not add one
    row = rows[rid]
    assert row["has_draft"] is True
    assert row["forecast_end"] == date(2030, 1, 31)
    assert row["monthly_rate"] == Decimal(1000)
    assert row["area"] == "Silo 9"
    assert row["data"]["forecastEnd"] == "2030-01-31"
    days = (row["forecast_end"] - row["forecast_start"]).days
    assert row["forecast_cost"] == (Decimal(1000) * days / Decimal("30.44")).quantize(Decimal("0.01"))
    assert row["cost_variance"] == row["forecast_cost"] - row["plan_cost"]
    assert sum(r["has_draft"] for r in rows.values()) == 1


def test_draft_rows_have_the_same_typed_values_as_a_mirror_row_with_that_data(db, world, app_conn):
    """Both branches of the view must type the data identically."""
    rid = demo_data.record_id(5)
    before = merged(db.app, "ORG_A", world["alice"])[rid]
    add_draft(app_conn, "ORG_A", world["alice"], rid, {})  # an empty delta changes nothing
    after = merged(db.app, "ORG_A", world["alice"])[rid]
    assert after["has_draft"] is True
    for column, value in before.items():
        if column not in ("has_draft",):
            assert after[column] == value, column


def test_other_users_drafts_are_invisible(db, world, app_conn):
    rid = demo_data.record_id(3)
    original = merged(db.app, "ORG_A", world["bob"])[rid]
    add_draft(app_conn, "ORG_A", world["alice"], rid, {"area": "Alice Only"})
    bobs = merged(db.app, "ORG_A", world["bob"])[rid]
    assert bobs["area"] == original["area"] and bobs["has_draft"] is False
    assert all(r["area"] != "Alice Only" for r in merged(db.app, "ORG_A", None).values())


@pytest.mark.parametrize("state", ["proposed", "committed", "synced", "conflict", "sync_error", "rejected", "discarded"])
def test_drafts_not_in_working_state_do_not_change_the_view(db, world, app_conn, state):
    rid = demo_data.record_id(7)
    original = merged(db.app, "ORG_A", world["alice"])[rid]
    add_draft(app_conn, "ORG_A", world["alice"], rid, {"area": "Not Merged"}, state=state)
    row = merged(db.app, "ORG_A", world["alice"])[rid]
    assert row["area"] == original["area"]
    assert row["has_draft"] is False


def test_a_second_working_draft_on_one_record_is_refused(world, app_conn):
    rid = demo_data.record_id(1)
    add_draft(app_conn, "ORG_A", world["alice"], rid, {"area": "X"})
    with pytest.raises(psycopg.errors.UniqueViolation):
        add_draft(app_conn, "ORG_A", world["alice"], rid, {"area": "Y"})


def test_deleted_records_leave_the_view_with_or_without_drafts(db, world, app_conn):
    deleted, drafted = demo_data.record_id(10), demo_data.record_id(11)
    add_draft(app_conn, "ORG_A", world["alice"], drafted, {"area": "Gone"})
    app_conn.execute("UPDATE vanguard.pfa_mirror SET deleted_at = now() WHERE organization_id = 'ORG_A' AND id = ANY(%s)",
                     ([deleted, drafted],))
    rows = merged(db.app, "ORG_A", world["alice"])
    assert len(rows) == 48 and deleted not in rows and drafted not in rows


def test_scope_settings_end_with_the_transaction(db, world):
    with psycopg.connect(db.app) as conn:
        for statement in scope_statements("ORG_A", world["alice"]):
            conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM nlq.pfa_merged").fetchone()[0] == 50
        conn.commit()
        assert conn.execute("SELECT count(*) FROM nlq.pfa_merged").fetchone()[0] == 0


def test_a_filter_error_cannot_reveal_other_organizations_rows(db, world, app_conn):
    """security_barrier: the caller's predicate never runs on rows outside the scope."""
    app_conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"area\": \"SECRET-42x-with-padding\"}' "
                     "WHERE organization_id = 'ORG_B' AND id = %s", (demo_data.record_id(1),))
    rows = merged(db.app, "ORG_A", world["alice"],
                  "WHERE 1 / (length(area) - 23) IS NOT NULL")
    assert len(rows) == 50
    with psycopg.connect(db.app) as conn, pytest.raises(psycopg.errors.DivisionByZero):
        # The same predicate on the base table does fail: the test can tell the difference.
        conn.execute("SELECT count(*) FROM vanguard.pfa_mirror "
                     "WHERE 1 / (length(area) - 23) IS NOT NULL")


def test_a_draft_follows_changes_pems_makes_to_its_record(db, world, app_conn):
    rid = demo_data.record_id(4)
    add_draft(app_conn, "ORG_A", world["alice"], rid, {"area": "Mine"})
    app_conn.execute("UPDATE vanguard.pfa_mirror SET data = data || '{\"class\": \"Changed In PEMS\", \"area\": \"Theirs\"}'"
                     " WHERE organization_id = 'ORG_A' AND id = %s", (rid,))
    row = merged(db.app, "ORG_A", world["alice"])[rid]
    assert row["class"] == "Changed In PEMS"  # PEMS's change shows through the draft
    assert row["area"] == "Mine"  # the user's change still wins in their own view
    assert row["data"]["class"] == "Changed In PEMS" and row["data"]["area"] == "Mine"


def test_a_draft_delta_may_hold_only_editable_fields(world, app_conn):
    with pytest.raises(psycopg.errors.CheckViolation):
        add_draft(app_conn, "ORG_A", world["alice"], demo_data.record_id(1), {"actualStart": "2020-01-01"})
    with pytest.raises(psycopg.errors.CheckViolation):
        add_draft(app_conn, "ORG_A", world["alice"], demo_data.record_id(1), {"area": "x", "pfaId": "other"})
