"""Ending a session: the token's id goes into `vanguard.revoked_tokens`, which `current_user`
checks on every request, so every API process refuses the token at once (not only the browser
that dropped its cookie)."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from nlq.auth.tokens import TokenClaims
from store import queries

_Q = queries.load("accounts")


async def revoke_token(pool: AsyncConnectionPool, claims: TokenClaims) -> None:
    """Refuse this token from now until it expires; rows of tokens that expired meanwhile are pruned."""
    async with pool.connection() as conn:
        await conn.execute(_Q["revoke_token"], {"jti": claims.jti, "user_id": claims.user_id,
                                                "expires_at": claims.expires_at})
        await conn.execute(_Q["prune_revoked_tokens"])
