"""The gateway's coarse access check: a valid token, and a role the route allows.

Verification is local (the platform's verifier, keys from auth's JWKS, verified tokens
cached until they expire): no request costs a call to auth. The check and its wording
are the platform's (``pms_platform.security.authorize``), the same as in every service.
"""

from pms_gateway.headers import RawHeaders
from pms_gateway.routes import RouteRule
from pms_platform.security import Principal, TokenVerifier, authorize


def authorization_header(headers: RawHeaders) -> str | None:
    """The value of the (first) ``Authorization`` header of raw ASGI headers."""
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


async def authorise(rule: RouteRule, headers: RawHeaders, verifier: TokenVerifier) -> Principal:
    """The caller's principal, checked by the platform's :func:`authorize` against the
    roles of ``rule``; raises its ``UnauthorizedError`` (401) or ``ForbiddenError`` (403),
    which the proxy answers with exactly the body and headers a service would."""
    return await authorize(authorization_header(headers), verifier, rule.roles)
