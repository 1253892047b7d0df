"""Organizations, users and memberships (password hashing lives with auth in `nlq`)."""

from __future__ import annotations

import psycopg

from store import queries

ROLES = ("viewer", "editor", "admin")
_Q = queries.load("accounts")


def upsert_organization(conn: psycopg.Connection, org_id: str, name: str) -> str:
    return conn.execute(_Q["upsert_organization"], {"id": org_id, "name": name}).fetchone()[0]


def insert_user(conn: psycopg.Connection, username: str, password_hash: str, display_name: str = "") -> int:
    row = conn.execute(
        _Q["insert_user"], {"username": username, "display_name": display_name, "password_hash": password_hash}
    ).fetchone()
    return row[0]


def find_user_by_username(conn: psycopg.Connection, username: str) -> tuple | None:
    return conn.execute(_Q["find_user_by_username"], {"username": username}).fetchone()


def set_password(conn: psycopg.Connection, username: str, password_hash: str) -> bool:
    """Replace a user's password hash; False when there is no such user."""
    return conn.execute(_Q["set_password"], {"username": username, "password_hash": password_hash}).fetchone() is not None


def upsert_membership(conn: psycopg.Connection, user_id: int, organization_id: str, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    conn.execute(_Q["upsert_membership"], {"user_id": user_id, "organization_id": organization_id, "role": role})


def remove_membership(conn: psycopg.Connection, user_id: int, organization_id: str) -> bool:
    """Take a user out of an organization; False when they were not in it."""
    return conn.execute(_Q["remove_membership"], {"user_id": user_id, "organization_id": organization_id}).rowcount == 1


def end_sessions(conn: psycopg.Connection, username: str) -> int | None:
    """Refuse every token the user holds now (in every API process, on their next request).

    Returns the user's new session generation, or None when there is no such user.
    """
    row = conn.execute(_Q["end_sessions"], {"username": username}).fetchone()
    return row[0] if row else None


def memberships_of(conn: psycopg.Connection, user_id: int) -> list[tuple[str, str, bool]]:
    """(organization, role, sees_costs) of each membership of the user."""
    return conn.execute(_Q["memberships_of"], {"user_id": user_id}).fetchall()


def set_cost_visibility(conn: psycopg.Connection, user_id: int, organization_id: str, sees_costs: bool) -> bool:
    """Show or hide money to a member; False when there is no such membership."""
    return conn.execute(_Q["set_cost_visibility"], {"user_id": user_id, "organization_id": organization_id,
                                                    "sees_costs": bool(sees_costs)}).rowcount == 1


def list_organizations(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(_Q["list_organizations"]).fetchall()


def get_secret(conn: psycopg.Connection, name: str) -> str | None:
    row = conn.execute(_Q["get_secret"], {"name": name}).fetchone()
    return row[0] if row else None


def list_users(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(_Q["list_users"]).fetchall()
