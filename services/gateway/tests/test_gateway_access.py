"""Token and role checks at the gateway, and the identity headers it lets through."""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends

from pms_platform.http_app import create_service_app
from pms_platform.security import (
    KEYS_UNAVAILABLE,
    HttpJwksSource,
    Role,
    TokenVerifier,
    require_roles,
)
from pms_platform.settings import ServiceSettings
from pms_testing.servers import RunningUpstream, serve_asgi
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _unsigned(header: Mapping[str, object], claims: Mapping[str, object]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _alg_none(minter: TokenMinter) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": minter.kid}
    return _unsigned(header, _claims(minter.mint())) + "."


def _hs256_with_public_key(minter: TokenMinter) -> str:
    public_pem = minter.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned(
        {"alg": "HS256", "typ": "JWT", "kid": minter.kid}, _claims(minter.mint())
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def _tampered(minter: TokenMinter) -> str:
    header, _, signature = minter.mint(Role.ANALYST).split(".")
    claims = _claims(minter.mint(Role.ANALYST))
    claims["role"] = "ADMIN"
    return header + "." + _b64(json.dumps(claims).encode()) + "." + signature


ATTACKS: dict[str, Callable[[TokenMinter], str]] = {
    "alg-none": _alg_none,
    "hs256-with-public-key": _hs256_with_public_key,
    "unknown-kid": lambda minter: minter.mint(headers={"kid": "somebody-elses-key"}),
    "other-key-with-our-kid": lambda minter: TokenMinter().mint(headers={"kid": minter.kid}),
    "wrong-issuer": lambda minter: minter.mint(iss="someone-else"),
    "wrong-audience": lambda minter: minter.mint(aud="someone-else"),
    "expired": lambda minter: minter.mint(expires_in=timedelta(minutes=-5)),
    "tampered-role": _tampered,
    "unknown-role": lambda minter: minter.mint(role="SUPERUSER"),
    "garbage": lambda _minter: "not.a.token",
}


async def test_api_routes_without_a_token_are_401_with_a_bearer_challenge(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream]
) -> None:
    for path in ("/api/patients", "/api/billing/x", "/api/analytics/x", "/api/audit"):
        response = await gateway.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
    assert all(not up.app.received for up in upstreams.values())


async def test_a_non_bearer_authorization_is_401(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/patients", headers={"Authorization": "Basic dXNlcjpw"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "A valid bearer token is required"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_attack_tokens_are_401_and_never_reach_the_upstream(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    attack: str,
) -> None:
    response = await gateway.get("/api/patients", headers=bearer(ATTACKS[attack](token_minter)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "The bearer token is not valid"
    assert not upstreams["patients"].app.received


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.ANALYST, "/api/patients"),
        (Role.ANALYST, "/api/billing/accounts"),
        (Role.CLINICIAN, "/api/analytics/summary"),
        (Role.CLINICIAN, "/api/audit"),
        (Role.ANALYST, "/api/audit"),
    ],
)
async def test_a_valid_token_with_the_wrong_role_is_403(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    role: Role,
    path: str,
) -> None:
    response = await gateway.get(path, headers=bearer(token_minter.mint(role)))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("This action needs the role ")
    assert "www-authenticate" not in response.headers
    assert all(not up.app.received for up in upstreams.values())


REFUSALS: dict[str, Callable[[TokenMinter], dict[str, str]]] = {
    "no-token": lambda _minter: {},
    "other-scheme": lambda minter: {"Authorization": f"Basic {minter.mint()}"},
    "garbage": lambda _minter: bearer("not.a.token"),
    "expired": lambda minter: bearer(minter.mint(expires_in=timedelta(minutes=-5))),
    "wrong-role": lambda minter: bearer(minter.mint(Role.ANALYST)),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_the_gateway_and_a_service_refuse_with_the_same_bytes(
    gateway: httpx.AsyncClient, token_minter: TokenMinter, case: str
) -> None:
    """One ``authorize``: the same request refused by the gateway (``/api/patients``,
    ADMIN or CLINICIAN) and by a service route with those roles gives the same answer."""
    router = APIRouter()

    @router.get("/patients", dependencies=[Depends(require_roles(Role.ADMIN, Role.CLINICIAN))])
    async def patients() -> list[str]:
        return []

    service = create_service_app(
        ServiceSettings(),
        title="patients",
        description="",
        routers=[router],
        token_verifier=token_minter.verifier(),
    )
    headers = {**REFUSALS[case](token_minter), "X-Request-ID": f"same-{case}"}
    async with serve_asgi(service, lifespan="on") as url, httpx.AsyncClient(base_url=url) as http:
        from_service = await http.get("/patients", headers=headers)
    from_gateway = await gateway.get("/api/patients", headers=headers)

    assert from_gateway.status_code == from_service.status_code
    assert from_gateway.status_code in (401, 403)
    assert from_gateway.content == from_service.content
    assert from_gateway.json()["requestId"] == f"same-{case}"
    for name in ("content-type", "content-length", "www-authenticate"):
        assert from_gateway.headers.get(name) == from_service.headers.get(name), name


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.ADMIN, "/api/patients"),
        (Role.CLINICIAN, "/api/patients"),
        (Role.ADMIN, "/api/billing/accounts"),
        (Role.CLINICIAN, "/api/billing/accounts"),
        (Role.ADMIN, "/api/analytics/summary"),
        (Role.ANALYST, "/api/analytics/summary"),
        (Role.ADMIN, "/api/audit"),
    ],
)
async def test_the_roles_a_route_allows_get_through(
    gateway: httpx.AsyncClient, token_minter: TokenMinter, role: Role, path: str
) -> None:
    response = await gateway.get(path, headers=bearer(token_minter.mint(role)))
    assert response.status_code == 200


async def test_auth_routes_are_forwarded_without_a_token_check(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream]
) -> None:
    response = await gateway.get("/auth/validate", headers=bearer("rubbish"))
    assert response.status_code == 200
    assert upstreams["auth"].app.received[-1].header("authorization") == "Bearer rubbish"


async def test_the_authorization_header_is_forwarded_for_the_service_to_check_again(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    token = token_minter.mint(Role.CLINICIAN)
    await gateway.get("/api/patients", headers=bearer(token))
    assert upstreams["patients"].app.received[-1].header("authorization") == f"Bearer {token}"


SPOOFED = {
    "X-User-Id": "someone-else",
    "X-User-Role": "ADMIN",
    "X-User-Email": "boss@example.com",
    "X-Authenticated-User": "boss",
    "X-Authenticated-Userid": "1",
    "X-Forwarded-User": "boss",
    "X-Remote-User": "boss",
    "X-Auth-Request-Email": "boss@example.com",
}


async def test_spoofed_identity_headers_are_replaced_by_the_verified_identity(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    token = token_minter.mint(Role.CLINICIAN, user_id="user-7")
    await gateway.get("/api/patients", headers={**SPOOFED, **bearer(token)})
    received = upstreams["patients"].app.received[-1]
    assert received.header_values("x-user-id") == ["user-7"]
    assert received.header_values("x-user-role") == ["CLINICIAN"]
    for name in SPOOFED:
        if name.lower() not in {"x-user-id", "x-user-role"}:
            assert received.header(name) is None, name


async def test_spoofed_identity_headers_never_reach_auth_either(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream]
) -> None:
    await gateway.post("/auth/login", headers=SPOOFED, json={"email": "a@b.c", "password": "x"})
    received = upstreams["auth"].app.received[-1]
    for name in SPOOFED:
        assert received.header(name) is None, name


async def test_a_valid_token_is_503_not_401_while_auth_publishes_no_keys_it_can_reach(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    refused_port: int,
) -> None:
    """A 401 would tell the console to end a valid session because auth was down."""
    unreachable = HttpJwksSource(f"http://127.0.0.1:{refused_port}/.well-known/jwks.json")
    async with gateway_factory(verifier=TokenVerifier(unreachable)) as gateway:
        response = await gateway.get("/api/patients", headers=bearer(token_minter.mint()))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["detail"] == KEYS_UNAVAILABLE
    assert upstreams["patients"].app.received == []
