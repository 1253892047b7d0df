"""The first start of a real site: no organizations and no users until an operator creates them.

The first admin is made with the CLI inside the running container (`docker compose exec app
vanguard users add ... --role admin --password-stdin`), not with a variable such as
VANGUARD_BOOTSTRAP_ADMIN: a password in the service's environment stays readable for the life of
the container (`docker inspect`, /proc/1/environ, the compose file or its .env) long after it was
needed; one read from stdin leaves nothing behind.
"""

from __future__ import annotations

import psycopg

from nlq.auth.passwords import verify_password
from nlq.seed import DEMO_USERS
from store import accounts

FIRST_ADMIN_STEPS = (
    "no users yet: register each PEMS organization and create the first admin, e.g.\n"
    "  vanguard orgs add PLANT1 --name 'Plant 1'\n"
    "  vanguard users add alice --org PLANT1 --role admin --password-stdin < alice.pw\n"
    "  (in compose: docker compose exec -T app vanguard ...)"
)


def first_admin_hint(conn: psycopg.Connection) -> str | None:
    """The steps to print at start-up while the database has no user at all."""
    if accounts.list_users(conn):
        return None
    return FIRST_ADMIN_STEPS


def demo_logins_present(conn: psycopg.Connection) -> list[str]:
    """Demo users that still have their published password (a database once started with the demo)."""
    present = []
    for user in DEMO_USERS:
        row = accounts.find_user_by_username(conn, user.username)
        if row is not None and row[4] and verify_password(row[3], user.password):
            present.append(user.username)
    return present
