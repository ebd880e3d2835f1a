"""The reverse proxy: pure ASGI on the hot path, one row of the route table per request.

A request goes through: path sanity, token and role (``/api/**``), the client's limit
of requests in flight, rate limits, its body read whole (size and time capped, see
:mod:`pms_gateway.body`), then the upstream call through its circuit breaker (retrying
idempotent requests that never left), and the answer streamed back unchanged apart from
hop-by-hop headers.
"""

import asyncio
import json
import time
from collections.abc import Sequence
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms_gateway.access import authorise
from pms_gateway.body import (
    ClientDisconnected,
    RequestBody,
    RequestBodyTimedOut,
    RequestBodyTooLarge,
)
from pms_gateway.client_limits import ConcurrencyLimiter
from pms_gateway.exchange import Exchange
from pms_gateway.headers import request_headers_for_upstream, response_headers_for_client
from pms_gateway.http_connection import UpstreamError, UpstreamResponse
from pms_gateway.metrics import GatewayMetrics
from pms_gateway.rate_limit import RateLimiter, RateLimits, retry_after_header
from pms_gateway.routes import RouteRule, is_internal
from pms_gateway.settings import GatewaySettings
from pms_gateway.upstreams import Upstream, UpstreamPool, classify_failure, is_connection_failure
from pms_platform.errors import (
    RETRY_AFTER_HEADER,
    ForbiddenError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from pms_platform.logging import get_logger
from pms_platform.request_context import (
    add_access_log_fields,
    current_request_id,
    sanitize_request_id,
)
from pms_platform.security import Principal, TokenVerifier

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Requests of other methods without a body say so with "Content-Length: 0".
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
RETRY_BACKOFF_SECONDS = 0.05
# Answers up to this size are read whole and sent in one piece; larger ones stream.
SMALL_BODY_BYTES = 64 * 1024
# Before a 413, up to this many times the limit is read and dropped so that a client that
# sends its whole body before reading sees the answer (see ``Exchange.discard_body``).
_DISCARD_FACTOR = 16
_log = get_logger("pms.gateway.proxy")


class ProxyRoute:
    """One row of the table, ready to serve. Its ``path`` is the row's pattern: the
    metrics middleware labels proxied requests by it (``/api/patients/**``), never by
    the raw path."""

    def __init__(self, rule: RouteRule, settings: GatewaySettings, metrics: GatewayMetrics):
        self.rule = rule
        self.path = rule.pattern
        self.connect_timeout = (
            rule.connect_timeout_seconds or settings.upstream_connect_timeout_seconds
        )
        self.response_timeout = (
            settings.route_response_timeouts.get(rule.pattern)
            or rule.response_timeout_seconds
            or settings.upstream_response_timeout_seconds
        )
        self.latency = metrics.upstream_latency.labels(rule.upstream, rule.pattern)
        self._prefix = rule.prefix.encode("latin-1")
        self._upstream_prefix = rule.upstream_prefix.encode("latin-1")

    def target(self, upstream: Upstream, scope: Scope) -> bytes:
        """The request target upstream, keeping the client's own percent-encoding of the
        path (``raw_path``) whenever it still starts with the rule's prefix."""
        if not self.rule.wildcard:
            path = self._upstream_prefix
        else:
            raw: bytes = scope.get("raw_path") or b""
            if not raw.startswith(self._prefix):
                raw = quote(scope["path"], safe="/:@!$&'()*+,;=-._~").encode("latin-1")
            path = self._upstream_prefix + raw[len(self._prefix) :]
        target = upstream.base_path + (path or b"/")
        query: bytes = scope.get("query_string", b"")
        return target + b"?" + query if query else target


class GatewayProxy:
    def __init__(
        self,
        settings: GatewaySettings,
        upstreams: UpstreamPool,
        verifier: TokenVerifier,
        limits: RateLimits,
        metrics: GatewayMetrics,
    ) -> None:
        self._settings = settings
        self._upstreams = upstreams
        self._verifier = verifier
        self._limits = limits
        self._metrics = metrics
        per_client = settings.max_concurrent_requests_per_client
        self._in_flight = ConcurrencyLimiter(per_client) if per_client else None

    async def handle(self, route: ProxyRoute, exchange: Exchange) -> None:
        rule = route.rule
        path: str = exchange.scope["path"]
        if has_dot_segment(path):
            await exchange.problem(400, "The path is not valid")
            return
        if is_internal(rule.rewrite(path)):
            await exchange.problem(404, "Not Found")
            return
        scope = exchange.scope
        add_access_log_fields(scope, route=rule.pattern, upstream=rule.upstream)
        principal: Principal | None = None
        if rule.roles is not None:
            try:
                principal = await authorise(rule, exchange.headers, self._verifier)
            except (UnauthorizedError, ForbiddenError, ServiceUnavailableError) as refusal:
                await exchange.refuse(refusal)  # a 503 while auth's keys cannot be fetched
                return
            add_access_log_fields(scope, user_id=principal.user_id)
        in_flight = self._in_flight
        client = f"user:{principal.user_id}" if principal else f"address:{exchange.client_host}"
        if in_flight is not None and not in_flight.try_acquire(client):
            self._metrics.rate_limited.labels("concurrent_per_client").inc()
            await exchange.problem(
                429,
                f"More than {in_flight.limit} requests of yours are in progress; "
                "try again when one has finished",
                slug="too-many-requests",
                # Closed after the answer: its body is unread, and a client this busy
                # must not keep a socket by trickling the rest of it.
                headers={RETRY_AFTER_HEADER: "1", "Connection": "close"},
            )
            return
        try:
            await self._admitted(route, exchange, principal)
        finally:
            if in_flight is not None:
                in_flight.release(client)

    async def _admitted(
        self, route: ProxyRoute, exchange: Exchange, principal: Principal | None
    ) -> None:
        """The rest of a request that has its place among the client's in flight."""
        rule = route.rule
        if principal is not None and await self._limited(
            exchange, "api_per_user", principal.user_id
        ):
            return
        body = RequestBody.from_headers(
            exchange.receive, exchange.headers, self._settings.max_body_bytes
        )
        if body is not None and body.declared_too_large:
            await self._too_large(exchange)
            return
        if rule.login and await self._limited(exchange, "login_per_address", exchange.client_host):
            return
        payload: bytes | None = None
        if body is not None:
            try:
                payload = await body.read(self._settings.body_timeout_seconds)
            except RequestBodyTooLarge:
                await self._too_large(exchange)
                return
            except RequestBodyTimedOut:
                await self._body_timed_out(exchange)
                return
            except ClientDisconnected:
                await exchange.note_client_gone()
                return
        if rule.login:
            email = login_email(payload or b"")
            if email and await self._limited(exchange, "login_per_email", email):
                return
        await self._forward(route, exchange, principal, payload)

    async def _forward(
        self,
        route: ProxyRoute,
        exchange: Exchange,
        principal: Principal | None,
        payload: bytes | None,
    ) -> None:
        upstream = self._upstreams[route.rule.upstream]
        breaker = upstream.breaker
        if not breaker.try_acquire():
            self._metrics.upstream_failures.labels(upstream.name, "circuit_open").inc()
            await exchange.problem(
                503,
                f"The {upstream.name} service is failing; requests to it are paused",
                slug="circuit-open",
                headers={RETRY_AFTER_HEADER: retry_after_header(breaker.retry_after_seconds())},
            )
            return
        method = exchange.method
        header_lines, has_length = request_headers_for_upstream(
            exchange.headers,
            client_host=exchange.client_host,
            scheme=exchange.scope.get("scheme", "http"),
            request_id=current_request_id() or sanitize_request_id(None),
            principal=principal,
        )
        # A chunked body was read whole too: it goes on with a length, its framing dropped.
        if not has_length and (payload is not None or method not in _BODYLESS_METHODS):
            framing = b"content-length: %d\r\n" % len(payload or b"")
        else:
            framing = b""
        head = b"%b %b HTTP/1.1\r\nhost: %b\r\n%b%b\r\n" % (
            method.encode("latin-1"),
            route.target(upstream, exchange.scope),
            upstream.host_header,
            header_lines,
            framing,
        )
        attempts = 1 + self._settings.upstream_retries if method in IDEMPOTENT_METHODS else 1
        started = time.perf_counter()
        response: UpstreamResponse | None = None
        try:
            for attempt in range(attempts):
                try:
                    response = await upstream.pool.request(
                        head,
                        payload,
                        connect_timeout=route.connect_timeout,
                        read_timeout=route.response_timeout,
                        head_only=method == "HEAD",
                    )
                    break
                except UpstreamError as error:
                    if is_connection_failure(error) and attempt + 1 < attempts:
                        self._metrics.upstream_retries.labels(upstream.name).inc()
                        await asyncio.sleep(RETRY_BACKOFF_SECONDS * 2**attempt)
                        continue
                    await self._failed(upstream, exchange, error)
                    return
        except BaseException:
            breaker.release()  # cancelled, or a bug: it says nothing about the upstream
            raise
        assert response is not None
        breaker.record_success()
        route.latency.observe(time.perf_counter() - started)
        await self._relay(upstream, exchange, response)

    async def _failed(self, upstream: Upstream, exchange: Exchange, error: UpstreamError) -> None:
        """Answer a request that got no response, and tell the breaker."""
        upstream.breaker.record_failure()
        failure = classify_failure(upstream.name, error)
        self._metrics.upstream_failures.labels(upstream.name, failure.reason).inc()
        _log.warning(
            "upstream failed",
            upstream=upstream.name,
            error=type(error).__name__,
            status=failure.status,
        )
        await exchange.problem(failure.status, failure.detail, slug=failure.slug)

    async def _relay(
        self,
        upstream: Upstream,
        exchange: Exchange,
        response: UpstreamResponse,
    ) -> None:
        """Status, headers and body as the upstream sent them (less hop-by-hop headers)."""
        start: Message = {
            "type": "http.response.start",
            "status": response.status,
            "headers": response_headers_for_client(response.headers),
        }
        length = response.content_length
        if response.complete or (length is not None and length <= SMALL_BODY_BYTES):
            try:
                content = await response.read()
            except UpstreamError as error:
                response.close()
                failure = classify_failure(upstream.name, error)
                self._metrics.upstream_failures.labels(upstream.name, failure.reason).inc()
                await exchange.problem(failure.status, failure.detail, slug=failure.slug)
                return
            response.release()
            await exchange.send(start)
            await exchange.send({"type": "http.response.body", "body": content})
            return
        await exchange.send(start)
        # Stop reading the upstream when the client goes away (the request body, if any,
        # is read already: the watcher is the only reader of ``receive``).
        watcher = asyncio.create_task(_close_when_client_leaves(exchange.receive, response))
        try:
            async for chunk in response.iter_chunks():
                message: Message = {"type": "http.response.body", "body": chunk, "more_body": True}
                await exchange.send(message)
        except UpstreamError as error:
            response.close()
            if watcher.done():
                return  # the client left, and the watcher closed the upstream response
            # The status is sent: all that is left is to end the response abnormally, so
            # that the client sees a truncated body, never one that looks complete.
            self._metrics.upstream_failures.labels(upstream.name, "stream").inc()
            _log.warning(
                "upstream body broke off", upstream=upstream.name, error=type(error).__name__
            )
            return
        finally:
            watcher.cancel()
            response.release()  # closes the connection unless the answer was whole
        await exchange.send({"type": "http.response.body", "body": b""})

    async def _limited(self, exchange: Exchange, limit: str, key: str) -> bool:
        """Whether ``limit`` refused the request (the 429 is then already sent)."""
        limiter: RateLimiter | None = getattr(self._limits, limit)
        if limiter is None:
            return False
        wait = await limiter.hit(key)
        if not wait:
            return False
        self._metrics.rate_limited.labels(limit).inc()
        await exchange.problem(
            429,
            "Too many requests; try again later",
            slug="too-many-requests",
            headers={RETRY_AFTER_HEADER: retry_after_header(wait)},
        )
        return True

    async def _too_large(self, exchange: Exchange) -> None:
        limit = self._settings.max_body_bytes
        await exchange.discard_body(_DISCARD_FACTOR * limit, self._settings.body_timeout_seconds)
        await exchange.problem(413, f"The request body is larger than {limit} bytes")

    async def _body_timed_out(self, exchange: Exchange) -> None:
        # Closed after the answer: the rest of the body may still be on its way, and
        # reading it would keep the connection this timeout was there to free.
        timeout = self._settings.body_timeout_seconds
        await exchange.problem(
            408,
            f"The request body was not received within {timeout:g} s",
            slug="request-timeout",
            headers={"Connection": "close"},
        )


class ProxyDispatchMiddleware:
    """The innermost middleware: a request that a row of the table matches goes straight
    to the proxy, skipping the framework's exception middleware and router, which it
    does not need; every other request passes on to the app's own routes."""

    def __init__(self, app: ASGIApp, proxy: GatewayProxy, routes: Sequence[ProxyRoute]) -> None:
        self.app = app
        self._proxy = proxy
        self._routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            for route in self._routes:
                if route.rule.matches(method, path):
                    scope["route"] = route
                    await self._proxy.handle(route, Exchange(scope, receive, send))
                    return
        await self.app(scope, receive, send)


def has_dot_segment(path: str) -> bool:
    """``/api/patients/../../x`` must not reach an upstream that would normalise it."""
    return "/." in path and any(part in {".", ".."} for part in path.split("/"))


def login_email(payload: bytes) -> str | None:
    """The ``email`` of a login body, normalised, if it is a JSON object with one."""
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    email = document.get("email") if isinstance(document, dict) else None
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


async def _close_when_client_leaves(receive: Receive, response: UpstreamResponse) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    response.close()
