"""Who is calling, and may they touch this organization? Checked before any data is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from nlq.deps import AppPool
from nlq.errors import Forbidden, Unauthorized
from store import queries

ROLE_RANK = {"viewer": 1, "editor": 2, "admin": 3}
COOKIE_NAME = "vanguard_session"
_Q = queries.load("accounts")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    memberships: dict[str, str]

    def role_in(self, org_id: str) -> str | None:
        return self.memberships.get(org_id)


def _token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return cookie
    raise Unauthorized("Log in first: send the access token as 'Authorization: Bearer <token>'.")


async def current_user(request: Request, pool: AppPool) -> CurrentUser:
    user_id = request.app.state.tokens.verify(_token(request))
    async with pool.connection() as conn:
        row = await (await conn.execute(_Q["user_with_memberships"], {"user_id": user_id})).fetchone()
    if row is None or not row[3]:
        raise Unauthorized("This account no longer exists or is disabled.")
    return CurrentUser(id=row[0], username=row[1], display_name=row[2], memberships=dict(row[4]))


UserDep = Annotated[CurrentUser, Depends(current_user)]


@dataclass(frozen=True)
class OrgAccess:
    """The caller, in the organization of the path, with at least the required role."""

    user: CurrentUser
    org_id: str
    role: str


def require_role(minimum: str):
    """A dependency for `/.../{org_id}/...` routes: 403 unless the caller has `minimum` there.

    Non-members get the same 403 as members with too small a role, before anything is looked
    up, so they learn nothing about the organization's records.
    """

    async def dependency(org_id: str, user: UserDep) -> OrgAccess:
        role = user.role_in(org_id)
        if role is None or ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise Forbidden(f"This needs the {minimum} role in organization {org_id[:64]}.")
        return OrgAccess(user=user, org_id=org_id, role=role)

    dependency.minimum_role = minimum  # read by the route-table test
    return dependency


Viewer = Annotated[OrgAccess, Depends(require_role("viewer"))]
Editor = Annotated[OrgAccess, Depends(require_role("editor"))]
Admin = Annotated[OrgAccess, Depends(require_role("admin"))]
