"""Access tokens verified locally, from the auth service's published keys (JWKS).

No request needs a round trip to auth: the keys are cached (pms_platform.jwks). The
algorithm is pinned by the
verifier, never taken from the token, which closes ``alg=none`` and the
HS256-with-the-public-key confusion.

:func:`authorize` is the one access check (bearer header, token, role) with one wording
for each refusal; the gateway calls it on raw headers, and the FastAPI dependencies
``CurrentPrincipal`` and ``require_roles`` wrap it.
"""

import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from pms_platform.errors import (
    BEARER_TOKEN_NOT_VALID,
    ForbiddenError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from pms_platform.jwks import (
    DEFAULT_JWKS_REFRESH_SECONDS,
    HttpJwksSource,
    InvalidTokenError,
    JwksSource,
    KeysUnavailableError,
    StaticJwksSource,
)
from pms_platform.logging import get_logger
from pms_platform.settings import ServiceSettings

__all__ = [
    "HttpJwksSource",
    "InvalidTokenError",
    "JwksSource",
    "KeysUnavailableError",
    "StaticJwksSource",
]

TOKEN_ISSUER = "pms-auth"
TOKEN_AUDIENCE = "pms"
TOKEN_ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "email", "role", "iat", "exp", "jti")
SESSION_CLAIM = "sid"
"""The refresh token family (session) an access token was issued with; optional."""
KEYS_UNAVAILABLE = "The access token cannot be checked now: the auth service does not answer"
_log = get_logger("pms.security")


class Role(StrEnum):
    ADMIN = "ADMIN"
    CLINICIAN = "CLINICIAN"
    ANALYST = "ANALYST"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as stated by a verified access token."""

    user_id: str
    email: str
    role: Role
    token_id: str
    expires_at: datetime
    session_id: str | None = None
    """The token's ``sid`` claim: the session (refresh token family) it was issued with."""


DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 15 * 60


class TokenSettings(ServiceSettings):
    """Settings of a service that checks access tokens (mixed into its settings class)."""

    auth_jwks_url: str = "http://127.0.0.1:4005/.well-known/jwks.json"
    # How often the keys are fetched again: a withdrawn key is refused within this time.
    auth_jwks_refresh_seconds: float = Field(default=DEFAULT_JWKS_REFRESH_SECONDS, gt=0)
    token_issuer: str = TOKEN_ISSUER
    token_audience: str = TOKEN_AUDIENCE
    # The longest life (exp - iat) an access token may have: auth's ACCESS_TOKEN_TTL_SECONDS.
    # A token minted for longer (a stolen key's forgery) is refused however valid its exp.
    token_max_lifetime_seconds: int = Field(default=DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS, ge=10)


@dataclass(frozen=True, slots=True)
class _RememberedToken:
    principal: Principal
    kid: str
    key: jwt.PyJWK  # the object that verified the token: trusted while it is published
    usable_until: float


class TokenVerifier:
    """Checks signature, algorithm, key id, issuer, audience, expiry, required claims, and
    that the token's life (``exp - iat``) is no longer than an access token's.

    Verified tokens are remembered until they expire (bounded) or the key that verified
    them is withdrawn, so a client sending the same token again costs two dictionary
    look-ups (the token, its key among those published) instead of a signature check.
    """

    def __init__(
        self,
        keys: JwksSource,
        *,
        issuer: str = TOKEN_ISSUER,
        audience: str = TOKEN_AUDIENCE,
        algorithm: str = TOKEN_ALGORITHM,
        leeway_seconds: int = 10,
        cache_size: int = 10_000,
        max_lifetime_seconds: int = DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS,
    ) -> None:
        self._keys = keys
        self._max_lifetime = max_lifetime_seconds
        self._issuer = issuer
        self._audience = audience
        self._algorithm = algorithm
        self._leeway = leeway_seconds
        self._cache_size = cache_size
        self._verified: dict[str, _RememberedToken] = {}

    @classmethod
    def from_settings(cls, settings: TokenSettings) -> "TokenVerifier":
        return cls(
            HttpJwksSource(
                settings.auth_jwks_url, refresh_interval_seconds=settings.auth_jwks_refresh_seconds
            ),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            max_lifetime_seconds=settings.token_max_lifetime_seconds,
        )

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            key = self._keys.published_key(remembered.kid)
            if key is remembered.key and remembered.usable_until > time.time():
                return remembered.principal
            del self._verified[token]  # expired, or its key withdrawn: checked afresh
        remembered = await self._verify_signature_and_claims(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        self._verified[token] = remembered
        return remembered.principal

    async def _verify_signature_and_claims(self, token: str) -> _RememberedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"malformed token: {error}") from None
        if header.get("alg") != self._algorithm:
            raise InvalidTokenError("unexpected signing algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("token names no key id")
        key = await self._keys.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
            role = Role(claims["role"])
            lifetime = int(claims["exp"]) - int(claims["iat"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidTokenError(f"token refused: {error}") from None
        if lifetime > self._max_lifetime + self._leeway:
            raise InvalidTokenError("token lives longer than an access token may")
        session_id = claims.get(SESSION_CLAIM)
        principal = Principal(
            user_id=str(claims["sub"]),
            email=str(claims["email"]),
            role=role,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            session_id=session_id if isinstance(session_id, str) else None,
        )
        return _RememberedToken(principal, kid, key, int(claims["exp"]) + self._leeway)

    def start(self) -> None:
        """Fetch the keys in the background now (called as the service starts)."""
        self._keys.start()

    async def close(self) -> None:
        await self._keys.close()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header value, if it is one."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def role_required(roles: Collection[Role]) -> ForbiddenError:
    """The 403 of a caller whose role is not one of ``roles``."""
    return ForbiddenError("This action needs the role " + " or ".join(sorted(roles)))


async def authorize(
    authorization: str | None, verifier: TokenVerifier, roles: Collection[Role] | None = None
) -> Principal:
    """The verified caller of a request with this ``Authorization`` header value.

    Raises :class:`UnauthorizedError` (401) when there is no bearer token (challenge
    ``Bearer``) or the token is not valid (``Bearer error="invalid_token"``), and
    :class:`ForbiddenError` (403) when ``roles`` is given and the caller has none of them.
    """
    token = bearer_token(authorization)
    if token is None:
        raise UnauthorizedError()
    try:
        principal = await verifier.verify(token)
    except InvalidTokenError as error:
        _log.info("token refused", reason=str(error))
        raise UnauthorizedError(BEARER_TOKEN_NOT_VALID, invalid_token=True) from None
    except KeysUnavailableError:
        _log.warning("token not checked: auth's keys could not be fetched")
        raise ServiceUnavailableError(KEYS_UNAVAILABLE, retry_after_seconds=1) from None
    if roles is not None and principal.role not in roles:
        raise role_required(roles)
    return principal


# Only for the OpenAPI document (bearer auth on every protected route): ``authorize``
# reads the header itself, so that services and the gateway parse it the same way.
_bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/login")
_BearerScheme = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def current_principal(request: Request, _scheme: _BearerScheme) -> Principal:
    """The verified caller (any role); 401 otherwise. See :func:`authorize`."""
    return await authorize(request.headers.get("authorization"), _verifier(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only callers with one of ``roles`` through: 401 without a
    valid token, 403 with another role. See :func:`authorize`."""
    allowed = frozenset(roles)

    async def principal_with_role(request: Request, _scheme: _BearerScheme) -> Principal:
        return await authorize(request.headers.get("authorization"), _verifier(request), allowed)

    return principal_with_role
