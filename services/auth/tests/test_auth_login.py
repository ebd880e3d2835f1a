from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from pms_auth.models import User
from pms_auth.settings import AuthSettings
from pms_platform.db import Database
from pms_platform.security import Role
from pms_testing.tokens import bearer

pytestmark = pytest.mark.integration
Login = Callable[..., Awaitable[dict[str, Any]]]
AuthHeaders = Callable[[httpx.AsyncClient, Role], Awaitable[dict[str, str]]]
ADMIN = "testuser@test.com"


async def stored_hash(email: str) -> str:
    database = Database.from_settings(AuthSettings())
    try:
        async with database.transaction() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            return user.password_hash
    finally:
        await database.dispose()


async def test_login_gives_a_token_pair_whose_token_is_the_access_token(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    body = await login(auth_client, ADMIN)
    assert body["token"] == body["accessToken"]
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert body["refreshToken"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["iss"] == "pms-auth"
    assert claims["aud"] == "pms"
    assert claims["email"] == "testuser@test.com"
    assert claims["role"] == "ADMIN"
    assert claims["exp"] - claims["iat"] == 900
    assert {"sub", "jti"} <= set(claims)
    assert jwt.get_unverified_header(body["token"])["alg"] == "EdDSA"


async def test_login_ignores_the_case_of_the_email(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    await login(auth_client, "TestUser@Test.COM")


async def test_wrong_email_and_wrong_password_get_the_same_401(
    auth_client: httpx.AsyncClient,
) -> None:
    same_request_id = {"X-Request-ID": "same-id"}
    wrong_password = await auth_client.post(
        "/login",
        json={"email": "testuser@test.com", "password": "not-the-password"},
        headers=same_request_id,
    )
    wrong_email = await auth_client.post(
        "/login",
        json={"email": "nobody@test.com", "password": "password123"},
        headers=same_request_id,
    )
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert wrong_password.content == wrong_email.content
    assert wrong_password.json()["detail"] == "Invalid email or password"
    assert wrong_password.headers["content-type"] == "application/problem+json"


async def test_a_malformed_login_body_is_400_with_field_messages(
    auth_client: httpx.AsyncClient,
) -> None:
    missing = await auth_client.post("/login", json={})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {
        "email": "Email is required",
        "password": "Password is required",
    }
    invalid = await auth_client.post("/login", json={"email": "not-an-email", "password": "x"})
    assert invalid.status_code == 400
    assert invalid.json()["errors"] == {"email": "Email should be valid"}
    not_json = await auth_client.post(
        "/login", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400


async def test_original_scenario_seeded_user_logs_in_with_a_non_null_token(
    auth_client: httpx.AsyncClient,
) -> None:
    response = await auth_client.post(
        "/login", json={"email": "testuser@test.com", "password": "password123"}
    )
    assert response.status_code == 200
    assert response.json()["token"] is not None


async def test_original_scenario_wrong_login_is_401(auth_client: httpx.AsyncClient) -> None:
    response = await auth_client.post(
        "/login", json={"email": "invalid_user@test.com", "password": "wrongpassword"}
    )
    assert response.status_code == 401


async def test_original_scenario_the_login_token_validates(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    token = (await login(auth_client, ADMIN))["token"]
    response = await auth_client.get("/validate", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["role"]) == ("testuser@test.com", "ADMIN")
    assert body["sub"] == jwt.decode(token, options={"verify_signature": False})["sub"]


async def test_validate_without_or_with_a_garbage_token_is_401(
    auth_client: httpx.AsyncClient,
) -> None:
    assert (await auth_client.get("/validate")).status_code == 401
    garbage = await auth_client.get("/validate", headers=bearer("not.a.jwt"))
    assert garbage.status_code == 401
    assert garbage.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert garbage.json()["detail"] == "The bearer token is not valid"


async def test_the_seeded_bcrypt_hash_is_upgraded_to_argon2id_at_login(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    assert (await stored_hash(ADMIN)).startswith("$2b$12$")
    await login(auth_client, ADMIN)
    assert (await stored_hash(ADMIN)).startswith("$argon2id$")
    await login(auth_client, ADMIN)  # the new hash verifies too


async def test_a_disabled_user_cannot_log_in(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    clinician = await auth_client.get(
        "/me", headers=await auth_headers(auth_client, Role.CLINICIAN)
    )
    disabled = await auth_client.patch(
        f"/users/{clinician.json()['id']}",
        json={"disabled": True},
        headers=await auth_headers(auth_client, Role.ADMIN),
    )
    assert disabled.status_code == 200
    response = await auth_client.post(
        "/login", json={"email": "clinician@test.com", "password": "password123"}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid email or password"
