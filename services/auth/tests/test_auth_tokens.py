import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pms_auth.keys import public_key_pem, thumbprint
from pms_platform.security import StaticJwksSource, TokenVerifier
from pms_testing.tokens import bearer

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Login = Callable[..., Awaitable[dict[str, Any]]]
ADMIN = "testuser@test.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": "pms-auth",
        "aud": "pms",
        "sub": str(uuid.uuid4()),
        "email": "someone@test.com",
        "role": "ADMIN",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def signed(key: Ed25519PrivateKey, kid: str | None = None, **overrides: Any) -> str:
    kid = kid or thumbprint(key.public_key())
    return jwt.encode(claims(**overrides), key, algorithm="EdDSA", headers={"kid": kid})


def unsigned_part(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())


async def status_at_validate(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/validate", headers=bearer(token))
    return response.status_code


def test_the_key_id_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037, appendix A.2 and A.3: the example Ed25519 key and its thumbprint.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.integration
async def test_the_jwks_publishes_the_signing_key_and_verifies_issued_tokens(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey, login: Login
) -> None:
    response = await auth_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    jwks = response.json()
    [jwk] = jwks["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == thumbprint(signing_key.public_key())
    assert "d" not in jwk  # never the private part
    token = (await login(auth_client, ADMIN))["accessToken"]
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    verifier = TokenVerifier(StaticJwksSource(jwks))
    principal = await verifier.verify(token)
    assert (principal.email, principal.role.value) == (ADMIN, "ADMIN")


@pytest.mark.integration
async def test_tokens_of_a_previous_key_still_verify_after_a_rotation(
    auth_client_factory: ClientFactory,
) -> None:
    previous = Ed25519PrivateKey.generate()
    pem = public_key_pem(previous.public_key()).decode()
    async with auth_client_factory(PREVIOUS_PUBLIC_KEYS=pem) as client:
        kids = [key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert thumbprint(previous.public_key()) == kids[1]
        assert await status_at_validate(client, signed(previous)) == 200


@pytest.mark.integration
async def test_a_token_of_our_key_with_every_claim_right_validates(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    """The baseline for the attacks below: only the named defect makes them fail."""
    assert await status_at_validate(auth_client, signed(signing_key)) == 200


@pytest.mark.integration
async def test_alg_none_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": thumbprint(signing_key.public_key())}
    assert await status_at_validate(auth_client, unsigned_part(header, claims()) + ".") == 401


@pytest.mark.integration
async def test_hs256_signed_with_the_public_key_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": thumbprint(signing_key.public_key())}
    signing_input = unsigned_part(header, claims())
    jwk_x = (await auth_client.get("/.well-known/jwks.json")).json()["keys"][0]["x"]
    for secret in (public_key_pem(signing_key.public_key()), jwk_x.encode()):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = signing_input + "." + _b64(signature)
        assert await status_at_validate(auth_client, forged) == 401


@pytest.mark.integration
async def test_a_wrong_kid_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    assert await status_at_validate(auth_client, signed(signing_key, kid="not-our-key")) == 401


@pytest.mark.integration
async def test_another_key_claiming_our_kid_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    impostor = Ed25519PrivateKey.generate()
    token = signed(impostor, kid=thumbprint(signing_key.public_key()))
    assert await status_at_validate(auth_client, token) == 401


@pytest.mark.integration
@pytest.mark.parametrize("claim", ["iss", "aud"])
async def test_a_wrong_issuer_or_audience_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey, claim: str
) -> None:
    token = signed(signing_key, **{claim: "somebody-else"})
    assert await status_at_validate(auth_client, token) == 401


@pytest.mark.integration
async def test_an_expired_token_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    now = int(time.time())
    token = signed(signing_key, iat=now - 3600, exp=now - 60)
    assert await status_at_validate(auth_client, token) == 401


@pytest.mark.integration
@pytest.mark.parametrize("claim", ["sub", "email", "role", "jti", "exp"])
async def test_a_token_missing_a_required_claim_is_rejected(
    auth_client: httpx.AsyncClient, signing_key: Ed25519PrivateKey, claim: str
) -> None:
    assert await status_at_validate(auth_client, signed(signing_key, **{claim: None})) == 401


@pytest.mark.integration
async def test_a_tampered_payload_is_rejected(auth_client: httpx.AsyncClient, login: Login) -> None:
    clinician = (await login(auth_client, "clinician@test.com"))["accessToken"]
    header, payload, signature = clinician.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["role"] = "ADMIN"
    tampered = f"{header}.{_b64(json.dumps(decoded).encode())}.{signature}"
    assert await status_at_validate(auth_client, tampered) == 401
    assert await status_at_validate(auth_client, clinician) == 200
