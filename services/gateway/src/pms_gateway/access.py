"""The gateway's coarse access check: a valid token, and a role the route allows.

Verification is local (the platform's verifier, keys from auth's JWKS, verified tokens
cached until they expire): no request costs a call to auth.
"""

from dataclasses import dataclass

from pms_gateway.headers import RawHeaders
from pms_gateway.routes import RouteRule
from pms_platform.logging import get_logger
from pms_platform.security import InvalidTokenError, Principal, TokenVerifier

_log = get_logger("pms.gateway.access")


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    www_authenticate: str | None = None


def bearer_token(headers: RawHeaders) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


async def authorise(
    rule: RouteRule, headers: RawHeaders, verifier: TokenVerifier
) -> Principal | Refusal:
    """The caller's principal, or why the request is refused (401 or 403)."""
    token = bearer_token(headers)
    if token is None:
        return Refusal(401, "A valid bearer token is required", "Bearer")
    try:
        principal = await verifier.verify(token)
    except InvalidTokenError as error:
        _log.info("token refused", reason=str(error))
        return Refusal(401, "The bearer token is not valid", 'Bearer error="invalid_token"')
    if rule.roles is not None and principal.role not in rule.roles:
        allowed = " or ".join(sorted(rule.roles))
        return Refusal(403, f"This needs the role {allowed}")
    return principal
