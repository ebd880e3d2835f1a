from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pms_auth.models import RefreshToken
from pms_auth.settings import AuthSettings
from pms_auth.tokens import hash_refresh_token
from pms_platform.db import Database
from pms_platform.security import Role
from pms_testing.tokens import bearer

pytestmark = pytest.mark.integration
Login = Callable[..., Awaitable[dict[str, Any]]]
AuthHeaders = Callable[[httpx.AsyncClient, Role], Awaitable[dict[str, str]]]
ADMIN = "testuser@test.com"
CLINICIAN = "clinician@test.com"


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/refresh", json={"refreshToken": refresh_token})


async def test_refresh_gives_a_new_pair_and_the_new_access_token_validates(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    first = await login(auth_client, ADMIN)
    response = await refresh(auth_client, first["refreshToken"])
    assert response.status_code == 200
    second = response.json()
    assert second["token"] == second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    validated = await auth_client.get("/validate", headers=bearer(second["accessToken"]))
    assert validated.json()["role"] == "ADMIN"


async def test_refresh_tokens_are_stored_only_as_sha256_hashes(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    value = (await login(auth_client, ADMIN))["refreshToken"]
    database = Database.from_settings(AuthSettings())
    try:
        async with database.transaction() as session:
            stored = (await session.scalars(select(RefreshToken))).all()
    finally:
        await database.dispose()
    assert [token.token_hash for token in stored] == [hash_refresh_token(value)]
    assert value.encode() not in stored[0].token_hash


async def test_a_rotated_refresh_token_cannot_be_used_again(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    first = await login(auth_client, ADMIN)
    assert (await refresh(auth_client, first["refreshToken"])).status_code == 200
    reused = await refresh(auth_client, first["refreshToken"])
    assert reused.status_code == 401
    assert reused.json()["detail"] == "The refresh token is not valid"


async def test_reusing_a_rotated_refresh_token_revokes_the_newest_of_its_family(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    first = await login(auth_client, ADMIN)
    second = (await refresh(auth_client, first["refreshToken"])).json()
    third = (await refresh(auth_client, second["refreshToken"])).json()
    assert (await refresh(auth_client, first["refreshToken"])).status_code == 401
    assert (await refresh(auth_client, third["refreshToken"])).status_code == 401


async def test_reuse_in_one_family_leaves_other_sessions_alone(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    stolen = await login(auth_client, ADMIN)
    other_device = await login(auth_client, ADMIN)
    await refresh(auth_client, stolen["refreshToken"])
    await refresh(auth_client, stolen["refreshToken"])
    assert (await refresh(auth_client, other_device["refreshToken"])).status_code == 200


async def test_an_unknown_or_missing_refresh_token_is_refused(
    auth_client: httpx.AsyncClient,
) -> None:
    assert (await refresh(auth_client, "made-up")).status_code == 401
    missing = await auth_client.post("/refresh", json={})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"refreshToken": "Refresh token is required"}


async def test_an_expired_refresh_token_is_refused(
    auth_client_factory: Callable[..., Any], login: Login
) -> None:
    async with auth_client_factory(REFRESH_TOKEN_TTL_SECONDS="60") as client:
        tokens = await login(client, ADMIN)
        database = Database.from_settings(AuthSettings())
        try:
            async with database.transaction() as session:
                stored = await session.scalar(select(RefreshToken))
                assert stored is not None
                stored.expires_at = stored.created_at
        finally:
            await database.dispose()
        assert (await refresh(client, tokens["refreshToken"])).status_code == 401


async def test_a_disabled_user_cannot_refresh(
    auth_client: httpx.AsyncClient, login: Login, auth_headers: AuthHeaders
) -> None:
    clinician = await login(auth_client, CLINICIAN)
    me = await auth_client.get("/me", headers=bearer(clinician["accessToken"]))
    disabled = await auth_client.patch(
        f"/users/{me.json()['id']}",
        json={"disabled": True},
        headers=await auth_headers(auth_client, Role.ADMIN),
    )
    assert disabled.status_code == 200
    assert (await refresh(auth_client, clinician["refreshToken"])).status_code == 401


async def test_logout_with_the_refresh_token_revokes_its_family(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    first = await login(auth_client, ADMIN)
    second = (await refresh(auth_client, first["refreshToken"])).json()
    response = await auth_client.post("/logout", json={"refreshToken": second["refreshToken"]})
    assert response.status_code == 204
    assert (await refresh(auth_client, second["refreshToken"])).status_code == 401


async def test_logout_with_only_the_access_token_revokes_the_session_it_came_from(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    session = await login(auth_client, ADMIN)
    other_session = await login(auth_client, ADMIN)
    response = await auth_client.post("/logout", headers=bearer(session["accessToken"]))
    assert response.status_code == 204
    assert (await refresh(auth_client, session["refreshToken"])).status_code == 401
    assert (await refresh(auth_client, other_session["refreshToken"])).status_code == 200


async def test_logout_without_any_token_is_401(auth_client: httpx.AsyncClient) -> None:
    response = await auth_client.post("/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "A valid bearer token is required"


async def test_logout_with_an_invalid_access_token_is_401_invalid_token(
    auth_client: httpx.AsyncClient,
) -> None:
    response = await auth_client.post("/logout", headers=bearer("not.a.jwt"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "The bearer token is not valid"


async def test_logout_is_idempotent(auth_client: httpx.AsyncClient, login: Login) -> None:
    tokens = await login(auth_client, ADMIN)
    for _ in range(2):
        response = await auth_client.post("/logout", json={"refreshToken": tokens["refreshToken"]})
        assert response.status_code == 204
