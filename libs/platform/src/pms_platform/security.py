"""Access tokens verified locally, from the auth service's published keys (JWKS).

No request needs a round trip to auth: the keys are cached, fetched again in the
background every ``AUTH_JWKS_REFRESH_SECONDS`` (a withdrawn key stops working within that
time) and when a token names an unknown key id (rate limited, so a flood of forged key
ids cannot turn into a flood of requests to auth). The algorithm is pinned by the
verifier, never taken from the token, which closes ``alg=none`` and the
HS256-with-the-public-key confusion.

:func:`authorize` is the one access check (bearer header, token, role) with one wording
for each refusal; the gateway calls it on raw headers, and the FastAPI dependencies
``CurrentPrincipal`` and ``require_roles`` wrap it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from pms_platform.errors import BEARER_TOKEN_NOT_VALID, ForbiddenError, UnauthorizedError
from pms_platform.logging import get_logger
from pms_platform.settings import ServiceSettings

TOKEN_ISSUER = "pms-auth"
TOKEN_AUDIENCE = "pms"
TOKEN_ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "email", "role", "iat", "exp", "jti")
SESSION_CLAIM = "sid"
"""The refresh token family (session) an access token was issued with; optional."""
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


class InvalidTokenError(Exception):
    """The token cannot be trusted; the message says why (for logs, not for clients)."""


class JwksSource(Protocol):
    async def key_for(self, kid: str) -> jwt.PyJWK:
        """The key ``kid`` names, fetched if need be; :class:`InvalidTokenError` if none."""

    def published_key(self, kid: str) -> jwt.PyJWK | None:
        """The key ``kid`` names among the keys last seen, without I/O (on every request):
        the same object for as long as that key is published unchanged."""

    async def close(self) -> None: ...


class _PublishedKeys:
    """The keys of the last JWKS document seen, by ``kid``. A key whose JWK did not change
    keeps its object from one document to the next: a remembered token is trusted while
    the object that verified it is published, which is one dictionary look-up."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, jwt.PyJWK] = {}

    def published_key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def _publish(self, jwks: object) -> set[str]:
        """Publish ``jwks`` instead (``ValueError`` if it is no JWKS); the key ids that
        were withdrawn or now name another key."""
        listed = jwks.get("keys", []) if isinstance(jwks, Mapping) else None
        if not isinstance(listed, list):
            raise ValueError("a JWKS document is an object with a list of keys")
        entries: dict[str, dict[str, Any]] = {}
        keys: dict[str, jwt.PyJWK] = {}
        for item in listed:
            kid = item.get("kid") if isinstance(item, Mapping) else None
            if not isinstance(kid, str):
                continue
            entry = dict(item)
            if self._entries.get(kid) == entry:
                keys[kid] = self._keys[kid]
            else:
                try:
                    keys[kid] = jwt.PyJWK.from_dict(entry)
                except jwt.PyJWTError:
                    continue
            entries[kid] = entry
        withdrawn = {kid for kid, key in self._keys.items() if keys.get(kid) is not key}
        self._entries, self._keys = entries, keys
        return withdrawn


class StaticJwksSource(_PublishedKeys):
    """Keys known in-process: auth verifying its own tokens, and tests. A fixed document
    is parsed once; a callable one (keys that may rotate) on every look-up of a key."""

    def __init__(self, jwks: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        super().__init__()
        self._document = jwks if callable(jwks) else None
        if not callable(jwks):
            self._publish(jwks)

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if self._document is not None:
            self._publish(self._document())
        key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("unknown signing key")
        return key

    async def close(self) -> None:
        return None


DEFAULT_JWKS_REFRESH_SECONDS = 300.0  # as long as auth lets its JWKS be cached (max-age)


class HttpJwksSource(_PublishedKeys):
    """Auth's JWKS over HTTP, cached; fetched again in the background every
    ``refresh_interval_seconds`` (a withdrawn key stops verifying; an unreachable auth
    leaves the keys as they were), and on an unknown ``kid`` at most once per
    ``min_refetch_interval_seconds`` (once per second while auth has not answered yet)."""

    RETRY_AFTER_FAILURE_SECONDS = 1.0

    def __init__(
        self,
        url: str,
        *,
        min_refetch_interval_seconds: float = 30.0,
        refresh_interval_seconds: float = DEFAULT_JWKS_REFRESH_SECONDS,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__()
        self._url = url
        self._interval = min_refetch_interval_seconds
        self._refresh_interval = refresh_interval_seconds
        self._client = client or httpx.AsyncClient(timeout=2.0)
        self._next_fetch_at = 0.0
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if self._refresher is None and not self._client.is_closed:
            # Started by the first token (no event loop runs when the app is built).
            self._refresher = asyncio.create_task(self._refresh_periodically())
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)  # another request may have fetched meanwhile
            if key is None and time.monotonic() >= self._next_fetch_at:
                fetched = await self._fetch()
                pause = self._interval if fetched else self.RETRY_AFTER_FAILURE_SECONDS
                self._next_fetch_at = time.monotonic() + pause
                key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("unknown signing key")
        return key

    async def _refresh_periodically(self) -> None:
        fetched = True
        while True:
            retry = min(self._refresh_interval, self.RETRY_AFTER_FAILURE_SECONDS)
            await asyncio.sleep(self._refresh_interval if fetched else retry)
            try:
                async with self._lock:
                    fetched = await self._fetch()
            except Exception:
                # Never let the refresher die: withdrawn keys would then verify forever.
                _log.exception("jwks refresh failed", url=self._url)
                fetched = False

    async def _fetch(self) -> bool:
        try:
            response = await self._client.get(self._url)
            response.raise_for_status()
            known = set(self._keys)
            withdrawn = self._publish(response.json())
        except (httpx.HTTPError, ValueError) as error:
            _log.warning("jwks fetch failed", url=self._url, error=type(error).__name__)
            return False
        if withdrawn or known != set(self._keys):
            kids, removed = sorted(self._keys), sorted(withdrawn)
            _log.info("jwks fetched", url=self._url, key_ids=kids, withdrawn_key_ids=removed)
        return True

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with suppress(asyncio.CancelledError):
                await self._refresher
        await self._client.aclose()


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
