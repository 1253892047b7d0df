"""Data sets for guardrails tests: the same ORG_A everywhere, ORG_B where asked, and databases whose
view has its own scoping removed (so only the rewrite stands between a query and ORG_B)."""

from __future__ import annotations

import psycopg
import pytest

from store import demo_data
from store.fields import FIELDS
from tests.helpers import add_draft, add_org, add_records, add_user


def fill(conn: psycopg.Connection, orgs: tuple[str, ...]) -> None:
    """The same ORG_A (records, a user, drafts) in every database; ORG_B only where asked.

    ORG_B uses the same record ids as ORG_A, so any leak through a join or a subquery shows.
    """
    for org in orgs:
        add_org(conn, org)
        add_records(conn, list(demo_data.generate_records(org, 300, seed=3 if org == "ORG_A" else 4)))
    conn.execute("UPDATE vanguard.pfa_mirror SET last_synced_at = '2026-06-01T00:00:00Z'")
    user = add_user(conn, "alice", {"ORG_A": "editor"})
    for index, delta in ((2, {"area": "Camp"}), (9, {"monthlyRate": 99999, "source": "Rental"}),
                         (15, {"forecastEnd": "2029-12-31"})):
        add_draft(conn, "ORG_A", user, demo_data.record_id(index), delta)


def unscope(urls) -> None:
    """Replace the view with one that shows every organization and no drafts.

    On such a database only the rewrite stands between a statement and other organizations'
    rows, which is how the guardrails line is proven to hold on its own.
    """
    columns = []
    for field in FIELDS:
        if field.column == "cost_variance":
            columns.append("forecast_cost - plan_cost AS cost_variance")
        elif field.column == "has_draft":
            columns.append("false AS has_draft")
        else:
            columns.append(f"m.{field.column}")
    with psycopg.connect(urls.admin, autocommit=True) as conn:
        conn.execute(f"CREATE OR REPLACE VIEW nlq.pfa_merged AS SELECT {', '.join(columns)} FROM vanguard.pfa_mirror m")


@pytest.fixture(scope="module")
def unscoped_two_orgs(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        fill(conn, ("ORG_A", "ORG_B"))
    unscope(urls)
    return urls


@pytest.fixture(scope="module")
def unscoped_one_org(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        fill(conn, ("ORG_A",))
    unscope(urls)
    return urls


def run_as_admin(urls, sql: str) -> list[tuple]:
    with psycopg.connect(urls.admin, options="-c search_path=nlq") as conn:
        return conn.execute(sql, prepare=True).fetchall()


@pytest.fixture(scope="module")
def two_orgs(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        fill(conn, ("ORG_A", "ORG_B"))
    return urls


@pytest.fixture(scope="module")
def one_org(database_factory):
    urls = database_factory()
    with psycopg.connect(urls.app, autocommit=True) as conn:
        fill(conn, ("ORG_A",))
    return urls
