"""Text PostgreSQL cannot store is a 400 naming the field, before anything is looked up
or counted: a NUL in the login email (unauthenticated) or in a new user's fields."""

import json

import httpx
import pytest

from pms_platform.security import Role
from pms_platform.validation import UNSTORABLE_TEXT_MESSAGE

from .test_auth_login import ADMIN, AuthHeaders

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "testuser\u0000@test.com"), ("password", "pass\ud800word")],
)
async def test_a_login_with_unstorable_text_is_400_for_that_field(
    auth_client: httpx.AsyncClient, field: str, value: str
) -> None:
    credentials = {"email": ADMIN, "password": "password123", field: value}
    response = await auth_client.post(
        "/login",
        content=json.dumps(credentials, ensure_ascii=True).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {field: UNSTORABLE_TEXT_MESSAGE}


async def test_a_new_user_with_a_nul_in_the_email_is_400_and_not_stored(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    response = await auth_client.post(
        "/users",
        json={"email": "new\u0000@example.com", "password": "a long password 1", "role": "ANALYST"},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"email": UNSTORABLE_TEXT_MESSAGE}
    listed = await auth_client.get("/users", params={"size": 500}, headers=headers)
    assert all("\u0000" not in user["email"] for user in listed.json())
