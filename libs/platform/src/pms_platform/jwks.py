"""Auth's published keys (JWKS), as the token verifier looks them up.

:class:`HttpJwksSource` fetches them as soon as the service starts and again in the
background every ``AUTH_JWKS_REFRESH_SECONDS`` (a withdrawn key stops working within that
time), and when a token names an unknown key id (rate limited, so a flood of forged key
ids cannot turn into a flood of requests to auth). While auth cannot be reached and the
token's key is not known yet, the answer is "keys unavailable" (a 503 to the client), not
"token invalid": a 401 would end a valid session because auth was slow.
"""

import asyncio
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, Protocol

import httpx
import jwt

from pms_platform.logging import get_logger

_log = get_logger("pms.security")


class InvalidTokenError(Exception):
    """The token cannot be trusted; the message says why (for logs, not for clients)."""


class KeysUnavailableError(Exception):
    """The token names a key not seen yet and auth could not be asked for its keys: the
    token may well be valid, so the request is answered 503, never 401."""


class JwksSource(Protocol):
    def start(self) -> None:
        """Fetch the keys now, in the background (the service is starting)."""

    async def key_for(self, kid: str) -> jwt.PyJWK:
        """The key ``kid`` names, fetched if need be; :class:`InvalidTokenError` if auth
        publishes none, :class:`KeysUnavailableError` if auth could not be asked."""

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

    def start(self) -> None:
        return None

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
        self._reachable = False  # whether the last attempt to fetch the keys was answered
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Fetch now and keep refreshing, so that the first token finds the keys here (the
        app's start-up calls it; a first token would start it too)."""
        self._start_refreshing(first_pause=0.0)

    def _start_refreshing(self, first_pause: float) -> None:
        if self._refresher is None and not self._client.is_closed:
            self._refresher = asyncio.create_task(self._refresh_periodically(first_pause))

    async def key_for(self, kid: str) -> jwt.PyJWK:
        self._start_refreshing(first_pause=self._refresh_interval)  # no-op once started
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)  # another request may have fetched meanwhile
            if key is None and time.monotonic() >= self._next_fetch_at:
                self._reachable = await self._fetch()
                pause = self._interval if self._reachable else self.RETRY_AFTER_FAILURE_SECONDS
                self._next_fetch_at = time.monotonic() + pause
                key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._reachable:
            raise KeysUnavailableError("auth's keys could not be fetched")
        raise InvalidTokenError("unknown signing key")

    async def _refresh_periodically(self, first_pause: float) -> None:
        pause = first_pause
        while True:
            await asyncio.sleep(pause)
            try:
                async with self._lock:
                    self._reachable = await self._fetch()
            except Exception:
                # Never let the refresher die: withdrawn keys would then verify forever.
                _log.exception("jwks refresh failed", url=self._url)
                self._reachable = False
            retry = min(self._refresh_interval, self.RETRY_AFTER_FAILURE_SECONDS)
            pause = self._refresh_interval if self._reachable else retry

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
