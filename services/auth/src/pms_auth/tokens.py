"""Access tokens (signed JWTs) and refresh tokens (random values stored as hashes)."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from pms_auth.keys import KeySet
from pms_platform.security import SESSION_CLAIM, TOKEN_ALGORITHM

REFRESH_TOKEN_BYTES = 32
# SESSION_CLAIM ("sid") names the refresh token family an access token was issued with;
# the platform's verifier reads it into ``Principal.session_id`` (so logout can find it).


@dataclass(frozen=True)
class AccessToken:
    value: str
    token_id: str
    expires_at: datetime


class AccessTokenSigner:
    """Signs access tokens with the current key (EdDSA, ``kid`` = the key's thumbprint)."""

    def __init__(self, keys: KeySet, *, issuer: str, audience: str, ttl: timedelta) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl

    def sign(
        self, *, user_id: uuid.UUID, email: str, role: str, session_id: uuid.UUID, now: datetime
    ) -> AccessToken:
        token_id = uuid.uuid4().hex
        expires_at = now + self.ttl
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "email": email,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": token_id,
            SESSION_CLAIM: str(session_id),
        }
        value = jwt.encode(
            claims,
            self._keys.signing_key,
            algorithm=TOKEN_ALGORITHM,
            headers={"kid": self._keys.kid, "typ": "JWT"},
        )
        return AccessToken(value=value, token_id=token_id, expires_at=expires_at)


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash to store (the value itself is never stored)."""
    value = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return value, hash_refresh_token(value)


def hash_refresh_token(value: str) -> bytes:
    """SHA-256 suffices (no salt, no slow hash): the value is 256 random bits, not a
    password, so it cannot be guessed from its hash."""
    return hashlib.sha256(value.encode("utf-8")).digest()
