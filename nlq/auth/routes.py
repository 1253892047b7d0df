"""POST /api/auth/login, POST /api/auth/logout and GET /api/auth/me."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from nlq.auth.deps import UserDep
from nlq.auth.passwords import hash_password, verify_password
from nlq.auth.revocation import revoke_token
from nlq.deps import AppPool
from nlq.errors import Unauthorized
from nlq.openapi import errors
from store import queries

router = APIRouter(prefix="/api/auth", tags=["auth"])
_Q = queries.load("accounts")
_DUMMY_HASH = hash_password("not a real password")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MePublic(BaseModel):
    id: int
    username: str
    display_name: str
    memberships: dict[str, str]


def client_address(request: Request) -> str:
    """The caller's address: the peer's, or what a trusted proxy forwarded (`nlq.forwarded`)."""
    return request.client.host[:64] if request.client and request.client.host else "unknown"


async def authenticate(request: Request, pool, username: str, password: str) -> str:
    """An access token for a right username and password (the API and the login page both use this).

    The attempt is counted (and may be refused with 429) before the password is looked at.
    """
    limiter = request.app.state.login_limiter
    address = client_address(request)
    await limiter.claim(username, address)
    async with pool.connection() as conn:
        row = await (await conn.execute(_Q["find_user_by_username"], {"username": username})).fetchone()
    # Hash even for unknown users (same timing), off the event loop (argon2 is deliberately slow).
    stored_hash = row[3] if row else _DUMMY_HASH
    valid = await asyncio.to_thread(verify_password, stored_hash, password)
    if row is None or not row[4] or not valid:
        raise Unauthorized("Wrong username or password.")
    await limiter.succeeded(username, address)
    return request.app.state.tokens.issue(row[0], row[1], row[5])


@router.post("/login", response_model=TokenPublic, responses=errors(401, 429))
async def login(body: LoginRequest, request: Request, pool: AppPool) -> TokenPublic:
    """Exchange a username and password for an access token (Bearer)."""
    token = await authenticate(request, pool, body.username, body.password)
    return TokenPublic(access_token=token, expires_in=request.app.state.tokens.lifetime_seconds)


@router.post("/logout", status_code=204, response_class=Response)
async def logout(user: UserDep, request: Request, pool: AppPool) -> Response:
    """End this session: the token (bearer or cookie) is refused from now on, by every API process."""
    await revoke_token(pool, request.state.token_claims)
    return Response(status_code=204)


@router.get("/me", response_model=MePublic)
async def me(user: UserDep) -> MePublic:
    """The caller and their role in each organization."""
    return MePublic(id=user.id, username=user.username, display_name=user.display_name,
                    memberships=user.memberships)
