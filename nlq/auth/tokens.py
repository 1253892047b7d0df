"""Access tokens: HS256 JWTs carrying the user id, signed with the database's own secret."""

from __future__ import annotations

import time
import uuid

import jwt

from nlq.errors import Unauthorized

ALGORITHM = "HS256"


class TokenSigner:
    def __init__(self, key: str, lifetime_seconds: int) -> None:
        if len(key) < 32:
            raise ValueError("the token signing key must be at least 32 characters")
        self.key, self.lifetime_seconds = key, lifetime_seconds

    def issue(self, user_id: int, username: str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self.lifetime_seconds,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> int:
        """The user id of a valid token; Unauthorized for anything else (expired, tampered, foreign)."""
        try:
            claims = jwt.decode(token, self.key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "iat"]})
            return int(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Your session has expired; log in again.") from None
        except (jwt.InvalidTokenError, ValueError):
            raise Unauthorized("The token is not valid; log in again.") from None
