"""The original system's three integration tests, unchanged in meaning."""

from collections.abc import Awaitable, Callable

import httpx

ADMIN = ("testuser@test.com", "password123")


async def test_login_with_the_seeded_user_gives_a_token(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200
    assert response.json()["token"] is not None


async def test_a_wrong_login_is_401(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/login", json={"email": "invalid_user@test.com", "password": "wrongpassword"}
    )
    assert response.status_code == 401


async def test_patients_are_listed_with_the_token(
    gateway: httpx.AsyncClient, log_in: Callable[[tuple[str, str]], Awaitable[dict[str, str]]]
) -> None:
    response = await gateway.get("/api/patients", headers=await log_in(ADMIN))
    assert response.status_code == 200
    assert isinstance(response.json(), list)
