"""What a request says about itself: its id, its trace parent and its client's address.

The request id is taken from ``X-Request-ID`` when the client sent a sane one, made
otherwise. It is in every line logged while the request is served, echoed in the
response, and read by outgoing calls (HTTP, gRPC metadata, Kafka headers) through
:func:`current_request_id`. The one access-log line per request carries what the app
added with :func:`add_access_log_fields` (the gateway's route, upstream and user).

The client's address (:func:`client_address_of`) is the TCP peer of the ASGI scope, or,
behind a trusted proxy, the nearest address in ``X-Forwarded-For`` that is not a proxy.
"""

import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms_platform.logging import get_logger, request_id_var
from pms_platform.trace_context import TRACEPARENT_HEADER, is_version_00_traceparent

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_METADATA = REQUEST_ID_HEADER.lower()
"""The request id's key in gRPC metadata (keys there are lower case)."""
_REQUEST_ID_NAME = REQUEST_ID_METADATA.encode()
_TRACEPARENT_NAME = TRACEPARENT_HEADER.encode()
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_request_id = request_id_var
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
_log = get_logger("pms.access")
_ACCESS_LOG_FIELDS = "pms.access_log_fields"
"""The ASGI scope's key for the fields the app adds to this request's access-log line."""
_UNLOGGED_PATHS = ("/health/", "/metrics")
_SAFE_DEFAULTS = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)
"""Added to every response that does not set them: browsers must not guess a body's type,
and no cache (browser or proxy) may keep an answer, which may hold patient data."""
IpNetwork = IPv4Network | IPv6Network
UNKNOWN_CLIENT = "unknown"


def current_request_id() -> str | None:
    return _request_id.get()


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` the caller sent, when valid (carried on into events)."""
    return _traceparent.get()


def sanitize_request_id(candidate: str | None) -> str:
    """Keep a client's id when it is short and printable; otherwise make a new one."""
    if candidate and _SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return _new_request_id()


def _new_request_id() -> str:
    """A random (version 4) UUID in hex, as ``uuid.uuid4().hex`` is, at a third of its
    cost: no UUID object is built on every request."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def add_access_log_fields(scope: Scope, **fields: str) -> None:
    """Add ``fields`` to the access-log line of the request of ``scope`` (names other
    than the line's own ``method``, ``path``, ``status`` and ``duration_ms``). Cheaper
    than binding them to the logging context, and nothing to unbind: they describe the
    request, not each line logged while serving it."""
    added: dict[str, str] | None = scope.get(_ACCESS_LOG_FIELDS)
    if added is None:
        scope[_ACCESS_LOG_FIELDS] = fields
    else:
        added.update(fields)


class RequestContextMiddleware:
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware) that sets the
    request id, adds ``nosniff`` and ``no-store`` unless the app set them, and writes one
    access-log line per request (path only: query strings may
    hold search terms with patient names)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent: bytes | None = None
        trace = b""
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_NAME:
                sent = value
            elif name == _TRACEPARENT_NAME:
                trace = value
        request_id = sanitize_request_id(sent.decode("latin-1") if sent else None)
        token = _request_id.set(request_id)
        traceparent = trace.decode("latin-1")
        trace_token = _traceparent.set(
            traceparent if traceparent and is_version_00_traceparent(traceparent) else None
        )
        started = time.perf_counter()
        status = 500
        request_id_header = (_REQUEST_ID_NAME, request_id.encode())

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), request_id_header]
                names = {name.lower() for name, _ in headers}
                headers += [header for header in _SAFE_DEFAULTS if header[0] not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            path = scope.get("path", "")
            if not path.startswith(_UNLOGGED_PATHS):
                _log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    **scope.get(_ACCESS_LOG_FIELDS, {}),
                )
            _request_id.reset(token)
            _traceparent.reset(trace_token)


@contextmanager
def bound_request_id(candidate: str | None) -> Iterator[str]:
    """Work outside an HTTP request (a gRPC call, a consumed event) under ``candidate``
    as its request id (a new one when it is missing or not sane): in every log line and
    in :func:`current_request_id`, so events it publishes carry it on."""
    request_id = sanitize_request_id(candidate)
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)


def client_address_of(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str:
    """The client's address of the HTTP request ``scope`` (see :func:`client_address`)."""
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded_for = next(
        (value for name, value in scope.get("headers", []) if name == b"x-forwarded-for"), None
    )
    decoded = forwarded_for.decode("latin-1") if forwarded_for is not None else None
    return client_address(peer, decoded, trusted_proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[IpNetwork]
) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy (entries
    further left were written by the client and prove nothing)."""
    if peer is None:
        return UNKNOWN_CLIENT
    if not forwarded_for or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return _normalised(hop) or peer
    return _normalised(hops[0]) or peer if hops else peer


def _normalised(address: str) -> str | None:
    try:
        return str(ip_address(address))
    except ValueError:
        return None


def _is_trusted(address: str, trusted_proxies: Sequence[IpNetwork]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted_proxies)
