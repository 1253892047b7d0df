"""Small builders shared by tests: organizations, users and records in a test database."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from store import accounts, mirror

# What a `vanguard` subprocess needs to reach the test server: the role passwords the harness set
# on a server of VANGUARD_TEST_DATABASE_URL (tests/conftest.py fills it; empty on the embedded one).
HARNESS_ENV: dict[str, str] = {}


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a `vanguard` subprocess: this one's without the developer's own VANGUARD_
    settings (they must not leak into a test), with the harness's role passwords, then `extra`."""
    # The suite's audit key stays: commands that write the ledger would otherwise make a key file here.
    # The suite's own metrics directory does not: a `vanguard serve` would clear it.
    clean = {k: v for k, v in os.environ.items()
             if (not k.startswith("VANGUARD_") or k == "VANGUARD_AUDIT_KEY") and k != "PROMETHEUS_MULTIPROC_DIR"}
    return {**clean, **HARNESS_ENV, **(extra or {})}


def add_org(conn: psycopg.Connection, org_id: str) -> str:
    return accounts.upsert_organization(conn, org_id, f"Test {org_id}")


def add_user(conn: psycopg.Connection, username: str, memberships: dict[str, str] | None = None) -> int:
    user_id = accounts.insert_user(conn, username, "not-a-real-hash")
    for org, role in (memberships or {}).items():
        accounts.upsert_membership(conn, user_id, org, role)
    return user_id


def add_records(conn: psycopg.Connection, records: list[dict]) -> None:
    with conn.transaction():
        mirror.copy_records(conn, records)


def add_draft(conn: psycopg.Connection, org: str, user_id: int, record_id: str, delta: dict,
              state: str = "draft") -> int:
    return conn.execute(
        "INSERT INTO vanguard.pfa_draft (organization_id, user_id, record_id, state, delta)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (org, user_id, record_id, state, Jsonb(delta)),
    ).fetchone()[0]


def org_vocabulary(conn: psycopg.Connection, org: str, columns: tuple[str, ...]) -> dict[str, list[str]]:
    """The distinct values of each column in one organization's mirror (what the offline parser loads)."""
    vocabulary: dict[str, list[str]] = {}
    for column in columns:
        statement = sql.SQL("SELECT DISTINCT {} FROM vanguard.pfa_mirror WHERE organization_id = %s").format(
            sql.Identifier(column))
        vocabulary[column] = [r[0] for r in conn.execute(statement, (org,))]
    return vocabulary


def normal_rows(rows) -> list[str]:
    """Rows as comparable text, order-free, numbers to 4 decimals."""
    return sorted(repr(tuple(round(float(v), 4) if isinstance(v, (float, Decimal)) else v for v in r)) for r in rows)


def sse_events(text: str) -> list[tuple[str, object]]:
    """The (event, data) pairs of a Server-Sent Events body, in order (data parsed as JSON)."""
    found, name = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            found.append((name, json.loads(line.split(":", 1)[1].strip())))
    return found


def rows_of(events) -> list[list]:
    """Every row the `rows` events of an answer carried."""
    return [r for n, d in events if n == "rows" for r in d.get("rows", [])]
