"""The one access check, ``authorize``: header parsing, token, role, and its wordings."""

from datetime import timedelta
from typing import Any

import pytest

from pms_platform.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError
from pms_platform.security import (
    KEYS_UNAVAILABLE,
    KeysUnavailableError,
    Role,
    TokenVerifier,
    authorize,
    bearer_token,
)
from pms_testing.tokens import TokenMinter

REQUIRED = ("A valid bearer token is required", "Bearer")
NOT_VALID = ("The bearer token is not valid", 'Bearer error="invalid_token"')


def _refusal(error: UnauthorizedError | ForbiddenError) -> tuple[str, str | None]:
    return error.detail, (error.headers or {}).get("WWW-Authenticate")


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpw", "Token abc", "bearertoken"]
)
async def test_no_bearer_token_is_401_with_a_plain_bearer_challenge(
    token_minter: TokenMinter, header: str | None
) -> None:
    with pytest.raises(UnauthorizedError) as refused:
        await authorize(header, token_minter.verifier())
    assert refused.value.status == 401
    assert _refusal(refused.value) == REQUIRED


async def test_a_non_bearer_scheme_is_401_even_with_a_valid_token(
    token_minter: TokenMinter,
) -> None:
    with pytest.raises(UnauthorizedError) as refused:
        await authorize(f"Basic {token_minter.mint()}", token_minter.verifier())
    assert _refusal(refused.value) == REQUIRED


@pytest.mark.parametrize("token", ["nonsense", "not.a.token", "a.b.c.d"])
async def test_a_bad_token_is_401_invalid_token(token_minter: TokenMinter, token: str) -> None:
    with pytest.raises(UnauthorizedError) as refused:
        await authorize(f"Bearer {token}", token_minter.verifier())
    assert refused.value.status == 401
    assert _refusal(refused.value) == NOT_VALID


async def test_an_expired_token_is_401_invalid_token(token_minter: TokenMinter) -> None:
    expired = token_minter.mint(expires_in=timedelta(minutes=-5))
    with pytest.raises(UnauthorizedError) as refused:
        await authorize(f"Bearer {expired}", token_minter.verifier())
    assert _refusal(refused.value) == NOT_VALID


async def test_a_token_of_another_key_is_401_invalid_token(token_minter: TokenMinter) -> None:
    foreign = TokenMinter().mint(headers={"kid": token_minter.kid})
    with pytest.raises(UnauthorizedError) as refused:
        await authorize(f"Bearer {foreign}", token_minter.verifier())
    assert _refusal(refused.value) == NOT_VALID


async def test_the_wrong_role_is_403_naming_the_roles_sorted(token_minter: TokenMinter) -> None:
    token = token_minter.mint(Role.ANALYST)
    with pytest.raises(ForbiddenError) as refused:
        await authorize(f"Bearer {token}", token_minter.verifier(), [Role.CLINICIAN, Role.ADMIN])
    assert refused.value.status == 403
    assert refused.value.detail == "This action needs the role ADMIN or CLINICIAN"
    assert refused.value.headers is None


async def test_a_single_role_is_named_alone(token_minter: TokenMinter) -> None:
    token = token_minter.mint(Role.CLINICIAN)
    with pytest.raises(ForbiddenError) as refused:
        await authorize(f"Bearer {token}", token_minter.verifier(), {Role.ADMIN})
    assert refused.value.detail == "This action needs the role ADMIN"


async def test_the_right_role_gives_the_principal(token_minter: TokenMinter) -> None:
    token = token_minter.mint(Role.CLINICIAN, user_id="user-3", email="c@test.com")
    principal = await authorize(
        f"Bearer {token}", token_minter.verifier(), frozenset({Role.ADMIN, Role.CLINICIAN})
    )
    assert (principal.user_id, principal.email, principal.role) == (
        "user-3",
        "c@test.com",
        Role.CLINICIAN,
    )


async def test_without_roles_any_verified_caller_passes(token_minter: TokenMinter) -> None:
    verifier = token_minter.verifier()
    for role in Role:
        principal = await authorize(f"Bearer {token_minter.mint(role)}", verifier)
        assert principal.role is role


async def test_the_scheme_is_case_insensitive_and_spaces_are_ignored(
    token_minter: TokenMinter,
) -> None:
    token = token_minter.mint(Role.ADMIN)
    principal = await authorize(f"bearer   {token}  ", token_minter.verifier())
    assert principal.role is Role.ADMIN


async def test_the_session_id_is_carried_from_the_sid_claim(token_minter: TokenMinter) -> None:
    token = token_minter.mint(sid="5f0c3e9e-6d3a-4c55-9d59-2c1b1f1f4a10")
    principal = await authorize(f"Bearer {token}", token_minter.verifier())
    assert principal.session_id == "5f0c3e9e-6d3a-4c55-9d59-2c1b1f1f4a10"


async def test_a_token_without_a_session_has_none(token_minter: TokenMinter) -> None:
    principal = await authorize(f"Bearer {token_minter.mint()}", token_minter.verifier())
    assert principal.session_id is None


def test_bearer_token_reads_a_header_value() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("BEARER  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


class _UnreachableKeys:
    """Auth's keys, when auth has not answered: no key known, none can be fetched."""

    def start(self) -> None:
        return None

    async def key_for(self, kid: str) -> Any:
        raise KeysUnavailableError("auth did not answer")

    def published_key(self, kid: str) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_token_that_cannot_be_checked_now_is_503_with_a_retry_not_401(
    token_minter: TokenMinter,
) -> None:
    verifier = TokenVerifier(_UnreachableKeys())
    with pytest.raises(ServiceUnavailableError) as unavailable:
        await authorize(f"Bearer {token_minter.mint()}", verifier)
    assert unavailable.value.status == 503
    assert unavailable.value.detail == KEYS_UNAVAILABLE
    assert (unavailable.value.headers or {})["Retry-After"] == "1"
