"""The demo data the set's gold answers were checked on, and who may ask about it."""

from __future__ import annotations

from nlq.seed import DEMO_USERS
from store import demo_data

DEMO_ORGS = 3
DEMO_RECORDS = 2000


def demo_organizations() -> list[str]:
    return demo_data.organization_codes(DEMO_ORGS)


def demo_password(username: str, org: str) -> str | None:
    """The demo user's password when `username` is a demo user who may ask in `org`, else None."""
    for user in DEMO_USERS:
        if user.username == username and (user.organizations == "all" or org == demo_organizations()[0]):
            return user.password
    return None
