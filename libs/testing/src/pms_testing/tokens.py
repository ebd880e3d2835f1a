"""Access tokens for tests: ``TokenMinter`` signs real ones the way auth does, and
``bearer`` turns one into the ``Authorization`` header."""

import json
import time
import uuid
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pms_platform.security import (
    TOKEN_ALGORITHM,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    Role,
    StaticJwksSource,
    TokenVerifier,
)


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header that carries ``token``."""
    return {"Authorization": f"Bearer {token}"}


class TokenMinter:
    """Signs real access tokens with its own Ed25519 key, the way auth does, so services
    can test their access rules without running auth. ``claims`` override or add claims
    (``None`` removes one); ``headers`` override the JWT header."""

    def __init__(self, issuer: str = TOKEN_ISSUER, audience: str = TOKEN_AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.private_key = Ed25519PrivateKey.generate()
        self.kid = f"test-{uuid.uuid4().hex[:12]}"
        public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        public_jwk.update(kid=self.kid, use="sig", alg=TOKEN_ALGORITHM)
        self.jwks: dict[str, list[dict[str, str]]] = {"keys": [public_jwk]}

    def mint(
        self,
        role: Role | str | None = Role.ADMIN,
        *,
        user_id: str | None = None,
        email: str = "someone@test.com",
        expires_in: timedelta = timedelta(minutes=15),
        headers: dict[str, str] | None = None,
        **claims: object,
    ) -> str:
        now = int(time.time())
        payload: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id or str(uuid.uuid4()),
            "email": email,
            "role": str(role),
            "iat": now,
            "exp": now + int(expires_in.total_seconds()),
            "jti": uuid.uuid4().hex,
        }
        if role is None:
            del payload["role"]
        for name, value in claims.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return jwt.encode(
            payload,
            self.private_key,
            algorithm=TOKEN_ALGORITHM,
            headers={"kid": self.kid, **(headers or {})},
        )

    def authorization(
        self, role: Role | str | None = Role.ADMIN, *, email: str = "someone@test.com"
    ) -> dict[str, str]:
        """The ``Authorization`` header of a new token of a user with ``role``."""
        return bearer(self.mint(role, email=email))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(
            StaticJwksSource(self.jwks), issuer=self.issuer, audience=self.audience
        )
