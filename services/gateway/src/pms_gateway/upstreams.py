"""The upstream services: one pool of keep-alive connections and one circuit breaker each.

The client is the gateway's own (:mod:`pms_gateway.connection_pool`): aiohttp's, used
before, spent more CPU per proxied request than all the rest of the gateway.
"""

import asyncio
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pms_gateway.circuit_breaker import CircuitBreaker, CircuitState
from pms_gateway.connection_pool import ConnectionPool
from pms_gateway.http_connection import (
    ConnectFailed,
    ConnectTimedOut,
    ResponseTimedOut,
    UnexpectedStatus,
    UpstreamError,
)
from pms_gateway.metrics import GatewayMetrics
from pms_gateway.settings import GatewaySettings


@dataclass(frozen=True)
class UpstreamFailure:
    """How a request that got no usable answer is reported to the client."""

    status: int
    slug: str
    reason: str
    detail: str


def classify_failure(upstream: str, error: BaseException) -> UpstreamFailure:
    """Timeouts are 504, a service that cannot be reached is 503, one that dropped the
    connection or answered gibberish is 502. Never a 500: it is not the gateway's fault."""
    if isinstance(error, ResponseTimedOut | ConnectTimedOut | TimeoutError):
        return UpstreamFailure(
            504, "upstream-timeout", "timeout", f"The {upstream} service did not answer in time"
        )
    if isinstance(error, ConnectFailed):
        return UpstreamFailure(
            503, "upstream-unavailable", "connect", f"The {upstream} service is not reachable"
        )
    return UpstreamFailure(
        502, "bad-gateway", "protocol", f"The {upstream} service gave no valid answer"
    )


def is_connection_failure(error: BaseException) -> bool:
    """Failed before a byte of the request was sent: safe to retry an idempotent request."""
    return isinstance(error, ConnectFailed | ConnectTimedOut)


class Upstream:
    def __init__(self, name: str, base_url: str, breaker: CircuitBreaker) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the {name} upstream needs an http(s)://host[:port] URL")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.base_path = parts.path.rstrip("/").encode("latin-1")
        """Prefixed to every upstream path (empty unless the URL names a path)."""
        self.host_header = parts.netloc.rpartition("@")[2].encode("idna")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = parts.scheme == "https"
        self._pool: ConnectionPool | None = None

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError(f"the {self.name} upstream is not started")
        return self._pool

    def start(self, settings: GatewaySettings) -> None:
        self._pool = ConnectionPool(
            self._host,
            self._port,
            size=settings.upstream_pool_size,
            keepalive_seconds=settings.upstream_keepalive_seconds,
            tls=ssl.create_default_context() if self._tls else None,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def get_json(self, path: str, timeout_seconds: float) -> Any:
        """GET a small JSON document (health, OpenAPI); errors propagate (an error status
        is :class:`UnexpectedStatus`, a body that is not JSON a ``ValueError``)."""
        head = b"GET %b%b HTTP/1.1\r\nhost: %b\r\naccept: application/json\r\n\r\n" % (
            self.base_path,
            path.encode("latin-1"),
            self.host_header,
        )
        async with asyncio.timeout(timeout_seconds):
            response = await self.pool.request(
                head, connect_timeout=timeout_seconds, read_timeout=timeout_seconds
            )
            try:
                body = await response.read()
            except BaseException:
                response.close()
                raise
            response.release()
        if response.status >= 400:
            raise UnexpectedStatus(f"{self.name} answered {path} with {response.status}")
        return json.loads(body)


class UpstreamPool:
    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self._settings = settings
        self.upstreams = {
            name: Upstream(name, url, self._breaker(name, settings, metrics))
            for name, url in settings.upstream_urls.items()
        }

    @staticmethod
    def _breaker(name: str, settings: GatewaySettings, metrics: GatewayMetrics) -> CircuitBreaker:
        gauge = metrics.circuit_open.labels(name)
        gauge.set(0)

        def on_change(state: CircuitState) -> None:
            gauge.set(0 if state is CircuitState.CLOSED else 1)

        return CircuitBreaker(
            settings.circuit_failure_threshold, settings.circuit_open_seconds, on_change=on_change
        )

    def __getitem__(self, name: str) -> Upstream:
        return self.upstreams[name]

    async def start(self) -> None:
        for upstream in self.upstreams.values():
            upstream.start(self._settings)

    async def close(self) -> None:
        await asyncio.gather(*(upstream.close() for upstream in self.upstreams.values()))

    async def health(self) -> dict[str, dict[str, str]]:
        """Each upstream's ``/health/live`` (concurrently, short timeout) and circuit."""
        timeout = self._settings.upstream_health_timeout_seconds

        async def probe(upstream: Upstream) -> str:
            try:
                await upstream.get_json("/health/live", timeout)
            except (TimeoutError, UpstreamError, ValueError) as error:
                return f"DOWN: {type(error).__name__}"
            return "UP"

        names = list(self.upstreams)
        states = await asyncio.gather(*(probe(self.upstreams[name]) for name in names))
        return {
            name: {"status": state, "circuit": self.upstreams[name].breaker.state.value}
            for name, state in zip(names, states, strict=True)
        }
