import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pms_platform.security import InvalidTokenError, Role
from pms_testing.tokens import TokenMinter


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims_of(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _unsigned(header: dict[str, object], claims: dict[str, object]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


async def test_a_valid_token_gives_its_principal(token_minter: TokenMinter) -> None:
    token = token_minter.mint(Role.CLINICIAN, user_id="user-1", email="c@test.com")
    principal = await token_minter.verifier().verify(token)
    assert (principal.user_id, principal.email, principal.role) == (
        "user-1",
        "c@test.com",
        Role.CLINICIAN,
    )
    assert principal.token_id == _claims_of(token)["jti"]


async def test_alg_none_is_refused(token_minter: TokenMinter) -> None:
    claims = _claims_of(token_minter.mint())
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": token_minter.kid}, claims) + "."
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(token_minter: TokenMinter) -> None:
    claims = _claims_of(token_minter.mint())
    public_bytes = token_minter.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": token_minter.kid}, claims)
    signature = hmac.new(public_bytes, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(signing_input + "." + _b64(signature))


async def test_a_token_naming_an_unknown_key_is_refused(token_minter: TokenMinter) -> None:
    token = token_minter.mint(headers={"kid": "somebody-elses-key"})
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


async def test_a_token_signed_by_another_key_with_our_kid_is_refused(
    token_minter: TokenMinter,
) -> None:
    impostor = TokenMinter()
    token = impostor.mint(headers={"kid": token_minter.kid})
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


@pytest.mark.parametrize("claim", ["iss", "aud"])
async def test_a_wrong_issuer_or_audience_is_refused(token_minter: TokenMinter, claim: str) -> None:
    overrides: dict[str, Any] = {claim: "someone-else"}
    token = token_minter.mint(**overrides)
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


async def test_an_expired_token_is_refused(token_minter: TokenMinter) -> None:
    token = token_minter.mint(expires_in=timedelta(minutes=-5))
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


async def test_a_tampered_payload_is_refused(token_minter: TokenMinter) -> None:
    header, _, signature = token_minter.mint(Role.ANALYST).split(".")
    claims = _claims_of(token_minter.mint(Role.ANALYST))
    claims["role"] = "ADMIN"
    forged = header + "." + _b64(json.dumps(claims).encode()) + "." + signature
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(forged)


@pytest.mark.parametrize("claim", ["sub", "email", "role", "jti", "exp", "iat"])
async def test_a_token_missing_a_required_claim_is_refused(
    token_minter: TokenMinter, claim: str
) -> None:
    overrides: dict[str, Any] = {claim: None}
    token = token_minter.mint(**overrides)
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token)


async def test_an_unknown_role_is_refused(token_minter: TokenMinter) -> None:
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(token_minter.mint(role="SUPERUSER"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
async def test_garbage_is_refused(token_minter: TokenMinter, garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        await token_minter.verifier().verify(garbage)


async def test_a_token_that_lives_longer_than_an_access_token_is_refused(
    token_minter: TokenMinter,
) -> None:
    # Validly signed (as with a stolen or removed key), but good for a hundred years.
    token = token_minter.mint(expires_in=timedelta(days=36_500))
    with pytest.raises(InvalidTokenError, match="longer than an access token"):
        await token_minter.verifier().verify(token)


async def test_a_token_of_an_access_tokens_full_life_is_accepted(
    token_minter: TokenMinter,
) -> None:
    token = token_minter.mint(expires_in=timedelta(minutes=15))
    assert (await token_minter.verifier().verify(token)).role is Role.ADMIN
