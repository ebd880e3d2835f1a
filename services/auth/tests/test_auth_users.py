import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from pms_platform.security import Role
from pms_testing.tokens import bearer

pytestmark = pytest.mark.integration
Login = Callable[..., Awaitable[dict[str, Any]]]
AuthHeaders = Callable[[httpx.AsyncClient, Role], Awaitable[dict[str, str]]]
SOME_ID = "00000000-0000-4000-8000-000000000000"
NEW_USER = {"email": "new.user@test.com", "password": "a-long-password", "role": "CLINICIAN"}

# Every user-management endpoint, with a body valid for it.
ADMIN_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/users", NEW_USER),
    ("GET", "/users", None),
    ("GET", f"/users/{SOME_ID}", None),
    ("PATCH", f"/users/{SOME_ID}", {"role": "ANALYST"}),
    ("POST", f"/users/{SOME_ID}/password", {"password": "another-password"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ANALYST])
async def test_user_management_is_forbidden_to_clinicians_and_analysts(
    auth_client: httpx.AsyncClient,
    auth_headers: AuthHeaders,
    role: Role,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    headers = await auth_headers(auth_client, role)
    response = await auth_client.request(method, path, json=body, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
async def test_user_management_without_a_token_is_401(
    auth_client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await auth_client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_admin_creates_a_user_who_can_then_log_in(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders, login: Login
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    response = await auth_client.post("/users", json=NEW_USER, headers=headers)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/users/{created['id']}"
    assert (created["email"], created["role"], created["disabled"]) == (
        "new.user@test.com",
        "CLINICIAN",
        False,
    )
    assert "password" not in str(created).lower()
    fetched = await auth_client.get(response.headers["location"], headers=headers)
    assert fetched.json() == created
    tokens = await login(auth_client, "new.user@test.com", "a-long-password")
    me = await auth_client.get("/me", headers=bearer(tokens["token"]))
    assert me.json()["id"] == created["id"]


async def test_a_duplicate_email_in_any_case_is_409(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    duplicate = {**NEW_USER, "email": "TestUser@TEST.com"}
    response = await auth_client.post("/users", json=duplicate, headers=headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "Email address already exists"


async def test_an_invalid_new_user_is_400_with_field_messages(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    body = {"email": "nope", "password": "short", "role": "SUPERUSER"}
    response = await auth_client.post("/users", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "email": "Email should be valid",
        "password": "Password must be at least 8 characters",
        "role": "Role must be one of ADMIN, CLINICIAN, ANALYST",
    }
    missing = await auth_client.post("/users", json={}, headers=headers)
    assert set(missing.json()["errors"]) == {"email", "password", "role"}


async def test_users_are_listed_a_page_at_a_time_with_the_total_count(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    first = await auth_client.get("/users", params={"page": 1, "size": 2}, headers=headers)
    second = await auth_client.get("/users", params={"page": 2, "size": 2}, headers=headers)
    assert first.headers["x-total-count"] == second.headers["x-total-count"] == "3"
    assert len(first.json()) == 2
    assert len(second.json()) == 1
    emails = {user["email"] for user in first.json() + second.json()}
    assert emails == {"testuser@test.com", "clinician@test.com", "analyst@test.com"}
    for bad in ({"page": 0}, {"size": 501}, {"size": 0}):
        response = await auth_client.get("/users", params=bad, headers=headers)
        assert response.status_code == 400


async def test_an_admin_changes_a_role_and_it_shows_in_the_next_token(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders, login: Login
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    analyst = await login(auth_client, "analyst@test.com")
    me = await auth_client.get("/me", headers=bearer(analyst["token"]))
    changed = await auth_client.patch(
        f"/users/{me.json()['id']}", json={"role": "CLINICIAN"}, headers=headers
    )
    assert changed.status_code == 200
    assert changed.json()["role"] == "CLINICIAN"
    refreshed = await auth_client.post("/refresh", json={"refreshToken": analyst["refreshToken"]})
    validated = await auth_client.get("/validate", headers=bearer(refreshed.json()["token"]))
    assert validated.json()["role"] == "CLINICIAN"


async def test_patching_or_fetching_an_unknown_user_is_404(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    patched = await auth_client.patch(
        f"/users/{uuid.uuid4()}", json={"disabled": True}, headers=headers
    )
    assert patched.status_code == 404
    assert (await auth_client.get(f"/users/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await auth_client.get("/users/not-a-uuid", headers=headers)).status_code == 400


async def test_the_last_enabled_admin_can_be_neither_disabled_nor_demoted(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    me = (await auth_client.get("/me", headers=headers)).json()
    for change in ({"disabled": True}, {"role": "ANALYST"}):
        response = await auth_client.patch(f"/users/{me['id']}", json=change, headers=headers)
        assert response.status_code == 409
    second_admin = {**NEW_USER, "role": "ADMIN"}
    assert (await auth_client.post("/users", json=second_admin, headers=headers)).status_code == 201
    demoted = await auth_client.patch(
        f"/users/{me['id']}", json={"role": "ANALYST"}, headers=headers
    )
    assert demoted.status_code == 200


async def test_an_admin_sets_a_password_which_ends_the_users_sessions(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders, login: Login
) -> None:
    headers = await auth_headers(auth_client, Role.ADMIN)
    clinician = await login(auth_client, "clinician@test.com")
    me = await auth_client.get("/me", headers=bearer(clinician["token"]))
    response = await auth_client.post(
        f"/users/{me.json()['id']}/password", json={"password": "brand-new-secret"}, headers=headers
    )
    assert response.status_code == 204
    old = await auth_client.post(
        "/login", json={"email": "clinician@test.com", "password": "password123"}
    )
    assert old.status_code == 401
    await login(auth_client, "clinician@test.com", "brand-new-secret")
    refresh = await auth_client.post("/refresh", json={"refreshToken": clinician["refreshToken"]})
    assert refresh.status_code == 401
    too_short = await auth_client.post(
        f"/users/{me.json()['id']}/password", json={"password": "short"}, headers=headers
    )
    assert too_short.status_code == 400


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_its_own_account_at_me(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders, role: Role
) -> None:
    response = await auth_client.get("/me", headers=await auth_headers(auth_client, role))
    assert response.status_code == 200
    assert response.json()["role"] == role.value


async def test_me_without_a_token_is_401(auth_client: httpx.AsyncClient) -> None:
    assert (await auth_client.get("/me")).status_code == 401


async def test_me_of_a_disabled_user_is_401_invalid_token(
    auth_client: httpx.AsyncClient, auth_headers: AuthHeaders
) -> None:
    clinician = await auth_headers(auth_client, Role.CLINICIAN)
    me = await auth_client.get("/me", headers=clinician)
    disabled = await auth_client.patch(
        f"/users/{me.json()['id']}",
        json={"disabled": True},
        headers=await auth_headers(auth_client, Role.ADMIN),
    )
    assert disabled.status_code == 200
    response = await auth_client.get("/me", headers=clinician)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "The bearer token is not valid"
