"""Which headers cross the gateway, in each direction, and the ones it sets itself.

Requests lose the hop-by-hop headers (RFC 9110 7.6.1: they describe one connection, not
the message), every header that claims an identity (only a verified token says who is
calling; services must never be talked into trusting a client's ``X-User-Id``), and the
forwarding and tracing headers, which the gateway sets afresh.
"""

from collections.abc import Iterable

from pms_platform.request_context import REQUEST_ID_HEADER
from pms_platform.security import Principal
from pms_platform.trace_context import TRACEPARENT_HEADER, TRACESTATE_HEADER, next_traceparent

RawHeaders = list[tuple[bytes, bytes]]
_TRACEPARENT_NAME = TRACEPARENT_HEADER.encode()
_TRACESTATE_NAME = TRACESTATE_HEADER.encode()
_REQUEST_ID_NAME = REQUEST_ID_HEADER.lower().encode()

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_IDENTITY_NAMES = frozenset(
    {b"x-forwarded-user", b"x-forwarded-email", b"x-remote-user", b"remote-user", b"x-user"}
)
_IDENTITY_PREFIXES = (b"x-user-", b"x-authenticated-", b"x-auth-request-")
# Set by the gateway itself from the connection, never taken from the client.
_REPLACED_ON_REQUEST = frozenset(
    {
        b"host",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-real-ip",
        _REQUEST_ID_NAME,
        _TRACEPARENT_NAME,
        _TRACESTATE_NAME,
        # uvicorn answers "100 Continue" itself when the body is read.
        b"expect",
    }
)
# uvicorn adds its own Date and Server; the platform middleware adds X-Request-ID.
_REPLACED_ON_RESPONSE = frozenset({b"date", b"server", _REQUEST_ID_NAME})

USER_ID_HEADER = "X-User-Id"
USER_ROLE_HEADER = "X-User-Role"


def connection_named(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names listed in ``Connection``: hop-by-hop too, by the sender's word."""
    names: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(part.strip().lower() for part in value.split(b","))
    return frozenset(names)


def _is_identity(name: bytes) -> bool:
    return name in _IDENTITY_NAMES or name.startswith(_IDENTITY_PREFIXES)


def is_hop_by_hop(name: bytes) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-")


def request_headers_for_upstream(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    client_host: str,
    scheme: str,
    request_id: str,
    principal: Principal | None,
) -> list[tuple[str, str]]:
    """The client's headers as the upstream should see them, plus the gateway's own.

    ``Authorization`` passes unchanged: each service verifies the token again.
    """
    headers = list(headers)
    dropped = connection_named(headers)
    host = ""
    traceparent: str | None = None
    tracestate: str | None = None
    forwarded: list[tuple[str, str]] = []
    for raw_name, raw_value in headers:
        name = raw_name.lower()
        if name == b"host":
            host = raw_value.decode("latin-1")
        elif name == _TRACEPARENT_NAME:
            traceparent = raw_value.decode("latin-1")
        elif name == _TRACESTATE_NAME:
            tracestate = raw_value.decode("latin-1")
        if (
            is_hop_by_hop(name)
            or name in dropped
            or name in _REPLACED_ON_REQUEST
            or _is_identity(name)
        ):
            continue
        forwarded.append((name.decode("latin-1"), raw_value.decode("latin-1")))
    forwarded.append(("X-Forwarded-For", client_host))
    forwarded.append(("X-Forwarded-Proto", scheme))
    if host:
        forwarded.append(("X-Forwarded-Host", host))
    forwarded.append((REQUEST_ID_HEADER, request_id))
    new_traceparent, continued = next_traceparent(traceparent)
    forwarded.append((TRACEPARENT_HEADER, new_traceparent))
    if continued and tracestate:
        forwarded.append((TRACESTATE_HEADER, tracestate))
    if principal is not None:
        forwarded.append((USER_ID_HEADER, principal.user_id))
        forwarded.append((USER_ROLE_HEADER, principal.role.value))
    return forwarded


def response_headers_for_client(headers: Iterable[tuple[bytes, bytes]]) -> RawHeaders:
    headers = list(headers)
    dropped = connection_named(headers)
    return [
        (name, value)
        for name, value in headers
        if not is_hop_by_hop(lowered := name.lower())
        and lowered not in dropped
        and lowered not in _REPLACED_ON_RESPONSE
    ]
