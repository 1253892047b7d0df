"""Access tokens: HS256 JWTs carrying the user id, a token id (`jti`, what logging out revokes) and
the user's session generation (`gen`, what ending all of a user's sessions outdates), signed with
the database's own secret."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import jwt

from nlq.errors import Unauthorized

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    jti: str
    expires_at: datetime
    generation: int = 0


class TokenSigner:
    def __init__(self, key: str, lifetime_seconds: int) -> None:
        if len(key) < 32:
            raise ValueError("the token signing key must be at least 32 characters")
        self.key, self.lifetime_seconds = key, lifetime_seconds

    def issue(self, user_id: int, username: str, generation: int = 0) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self.lifetime_seconds,
                  "jti": uuid.uuid4().hex, "gen": generation}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; Unauthorized for anything else (expired, tampered, foreign)."""
        try:
            claims = jwt.decode(token, self.key, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub", "iat"]})
            jti, user_id = claims.get("jti"), int(claims["sub"])  # no jti: not one of ours
            generation = claims.get("gen", 0)  # none: issued before generations existed
            if (not isinstance(jti, str) or not 0 < len(jti) <= 64 or not 0 < user_id < 2**63
                    or type(generation) is not int or not 0 <= generation < 2**31):
                raise ValueError
            return TokenClaims(user_id=user_id, jti=jti, generation=generation,
                               expires_at=datetime.fromtimestamp(int(claims["exp"]), timezone.utc))
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Your session has expired; log in again.") from None
        except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
            raise Unauthorized("The token is not valid; log in again.") from None
