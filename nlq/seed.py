"""Demo content for a fresh database: organizations, PFA records and users to log in with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psycopg

from nlq.auth.passwords import hash_password
from store import accounts, demo_data, mirror


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    organizations: str  # "all" or "first"
    sees_costs: bool = True


DEMO_USERS = (
    DemoUser("admin", "vanguard-admin", "admin", "all"),
    DemoUser("planner", "vanguard-planner", "editor", "all"),
    DemoUser("viewer", "vanguard-viewer", "viewer", "first"),
    DemoUser("foreman", "vanguard-foreman", "editor", "first", sees_costs=False),  # plans without seeing money
)


def database_is_empty(conn: psycopg.Connection) -> bool:
    return not accounts.list_organizations(conn)


def seed_demo(
    conn: psycopg.Connection,
    *,
    organizations: int,
    records: int,
    seed: int = 7,
    load_records: bool = True,
    progress: Callable[[str, int], None] | None = None,
    track: Callable[[str, Iterable[dict]], Iterable[dict]] | None = None,
) -> list[str]:
    """Load demo organizations, their records and the demo users in one transaction.

    With `load_records=False` only organizations and users are created: `vanguard serve` fills
    the mirror by syncing from the PEMS simulator, which generates the same records.
    Returns the organization codes. Users that already exist keep their passwords.
    `progress(code, written)` hears of each loaded organization; `track(code, records)` may wrap
    the records on their way into the mirror (a progress bar).
    """
    codes = demo_data.organization_codes(organizations)
    with conn.transaction():
        for code in codes:
            accounts.upsert_organization(conn, code, f"Demo project {code}")
            if load_records:
                generated = demo_data.generate_records(code, records, seed=seed)
                written = mirror.copy_records(conn, track(code, generated) if track else generated)
                if progress:
                    progress(code, written)
        for user in DEMO_USERS:
            existing = accounts.find_user_by_username(conn, user.username)
            user_id = existing[0] if existing else accounts.insert_user(
                conn, user.username, hash_password(user.password), user.username.title()
            )
            for code in codes if user.organizations == "all" else codes[:1]:
                accounts.upsert_membership(conn, user_id, code, user.role)
                if not user.sees_costs:
                    accounts.set_cost_visibility(conn, user_id, code, False)
        if load_records:
            mirror.refresh_kpis(conn)
            mirror.analyze(conn)
    return codes
