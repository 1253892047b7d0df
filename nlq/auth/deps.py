"""Who is calling, and may they touch this organization? Checked before any data is read."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from nlq.deps import AppPool
from nlq.errors import Forbidden, Unauthorized
from store import queries

ROLE_RANK = {"viewer": 1, "editor": 2, "admin": 3}
COOKIE_NAME = "vanguard_session"
CSRF_COOKIE = "vanguard_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_Q = queries.load("accounts")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    memberships: dict[str, str]
    costs_hidden_in: frozenset[str] = frozenset()

    def role_in(self, org_id: str) -> str | None:
        return self.memberships.get(org_id)

    def sees_costs(self, org_id: str) -> bool:
        """Money (rates, prices, costs, variance) is shown unless the membership hides it."""
        return org_id not in self.costs_hidden_in


def _token(request: Request) -> tuple[str, bool]:
    """The access token, and whether it came from the session cookie (a browser) rather than a header."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        return cookie, True
    raise Unauthorized("Log in first: send the access token as 'Authorization: Bearer <token>'.")


async def _submitted_csrf(request: Request) -> str | None:
    """The CSRF token of a request: the header of a fetch, or the `csrf` field of a posted form."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf")  # parsed once; the route's Form fields reuse it
        return value if isinstance(value, str) else None
    return None


def csrf_matches(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and submitted and len(expected) >= 32
                and hmac.compare_digest(expected.encode(), submitted.encode()))


async def current_user(request: Request, pool: AppPool) -> CurrentUser:
    token, from_cookie = _token(request)
    # A browser sends the cookie on any site's behalf, so a state-changing request proves it
    # comes from our own pages by echoing the CSRF cookie (which other sites cannot read).
    if from_cookie and request.method not in SAFE_METHODS and not csrf_matches(request, await _submitted_csrf(request)):
        raise Forbidden("This request needs the page's CSRF token; reload the page and try again.", reason="csrf")
    claims = request.app.state.tokens.verify(token)
    async with pool.connection() as conn:
        row = await (await conn.execute(_Q["user_with_memberships"],
                                        {"user_id": claims.user_id, "jti": claims.jti})).fetchone()
    if row is None or not row[3]:
        raise Unauthorized("This account no longer exists or is disabled.")
    if row[5]:
        raise Unauthorized("This session was ended by logging out; log in again.")
    if claims.generation != row[7]:
        raise Unauthorized("This session was ended by an administrator or a password change; log in again.")
    request.state.token_claims = claims  # what POST /api/auth/logout revokes
    return CurrentUser(id=row[0], username=row[1], display_name=row[2], memberships=dict(row[4]),
                       costs_hidden_in=frozenset(row[6]))


UserDep = Annotated[CurrentUser, Depends(current_user)]


@dataclass(frozen=True)
class OrgAccess:
    """The caller, in the organization of the path, with at least the required role."""

    user: CurrentUser
    org_id: str
    role: str

    @property
    def sees_costs(self) -> bool:
        return self.user.sees_costs(self.org_id)


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
