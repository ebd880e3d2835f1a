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
_NOT_RELAYED = HOP_BY_HOP | _REPLACED_ON_RESPONSE

USER_ID_HEADER = "X-User-Id"
USER_ROLE_HEADER = "X-User-Role"
_USER_ID_NAME = USER_ID_HEADER.lower().encode()
_USER_ROLE_NAME = USER_ROLE_HEADER.lower().encode()
# One set look-up per client header decides whether it is forwarded...
_NOT_FORWARDED = HOP_BY_HOP | _REPLACED_ON_REQUEST | _IDENTITY_NAMES
_NOT_FORWARDED_PREFIXES = (b"proxy-", *_IDENTITY_PREFIXES)
# ... and another whether the gateway reads it.
_READ_ON_REQUEST = frozenset(
    {b"host", _TRACEPARENT_NAME, _TRACESTATE_NAME, b"connection", b"content-length"}
)


def _named_in(connection: bytes) -> set[bytes]:
    """Header names listed in ``Connection``: hop-by-hop too, by the sender's word."""
    return {part.strip().lower() for part in connection.split(b",")}


def request_headers_for_upstream(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    client_host: str,
    scheme: str,
    request_id: str,
    principal: Principal | None,
) -> tuple[bytes, bool]:
    """The client's headers as the upstream should see them, plus the gateway's own, as
    header lines ready for the request head (``b"name: value\\r\\n"`` each), and whether
    the client's ``Content-Length`` is among them. ``Host`` is the client's to set.

    ``Authorization`` passes unchanged: each service verifies the token again.
    """
    host = b""
    traceparent: str | None = None
    tracestate: bytes | None = None
    connection: bytes | None = None
    has_length = False
    kept: RawHeaders = []
    for raw_name, raw_value in headers:
        name = raw_name.lower()
        if name in _READ_ON_REQUEST:
            if name == b"host":
                host = raw_value
            elif name == _TRACEPARENT_NAME:
                traceparent = raw_value.decode("latin-1")
            elif name == _TRACESTATE_NAME:
                tracestate = raw_value
            elif name == b"connection":
                connection = raw_value if connection is None else connection + b"," + raw_value
            elif name == b"content-length":
                has_length = True
        if name in _NOT_FORWARDED or name.startswith(_NOT_FORWARDED_PREFIXES):
            continue
        kept.append((name, raw_value))
    if connection is not None:
        named = _named_in(connection)
        kept = [(name, value) for name, value in kept if name not in named]
        has_length = has_length and b"content-length" not in named
    lines = [b"%b: %b\r\n" % pair for pair in kept]
    lines.append(b"x-forwarded-for: %b\r\n" % client_host.encode("latin-1"))
    lines.append(b"x-forwarded-proto: %b\r\n" % scheme.encode("latin-1"))
    if host:
        lines.append(b"x-forwarded-host: %b\r\n" % host)
    lines.append(b"%b: %b\r\n" % (_REQUEST_ID_NAME, request_id.encode("latin-1")))
    new_traceparent, continued = next_traceparent(traceparent)
    lines.append(b"%b: %b\r\n" % (_TRACEPARENT_NAME, new_traceparent.encode()))
    if continued and tracestate:
        lines.append(b"%b: %b\r\n" % (_TRACESTATE_NAME, tracestate))
    if principal is not None:
        lines.append(b"%b: %b\r\n" % (_USER_ID_NAME, principal.user_id.encode("latin-1")))
        lines.append(b"%b: %b\r\n" % (_USER_ROLE_NAME, principal.role.value.encode("latin-1")))
    return b"".join(lines), has_length


def response_headers_for_client(headers: Iterable[tuple[bytes, bytes]]) -> RawHeaders:
    """The upstream's response headers less hop-by-hop ones and those set again here."""
    connection: bytes | None = None
    kept: RawHeaders = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _NOT_RELAYED or lowered.startswith(b"proxy-"):
            if lowered == b"connection":
                connection = value if connection is None else connection + b"," + value
            continue
        kept.append((name, value))
    if connection is None:
        return kept
    named = _named_in(connection)
    return [(name, value) for name, value in kept if name.lower() not in named]
