"""Refresh and logout through the gateway."""

from typing import Any

import httpx

from pms_testing.tokens import bearer

CLINICIAN = {"email": "clinician@test.com", "password": "password123"}


async def log_in(gateway: httpx.AsyncClient) -> dict[str, Any]:
    response = await gateway.post("/auth/login", json=CLINICIAN)
    assert response.status_code == 200
    pair: dict[str, Any] = response.json()
    return pair


async def test_a_refresh_token_gives_a_working_new_pair_once(gateway: httpx.AsyncClient) -> None:
    first = await log_in(gateway)
    refreshed = await gateway.post("/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert refreshed.status_code == 200
    pair = refreshed.json()
    assert pair["refreshToken"] != first["refreshToken"]
    listed = await gateway.get("/api/patients", headers=bearer(pair["accessToken"]))
    assert listed.status_code == 200
    reused = await gateway.post("/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reused.status_code == 401
    # Reuse of a rotated token revoked the whole family, the newest token too.
    newest = await gateway.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert newest.status_code == 401


async def test_logout_revokes_the_refresh_token(gateway: httpx.AsyncClient) -> None:
    pair = await log_in(gateway)
    logout = await gateway.post("/auth/logout", json={"refreshToken": pair["refreshToken"]})
    assert logout.status_code == 204
    after = await gateway.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert after.status_code == 401


async def test_validate_answers_200_for_a_token_and_401_without(gateway: httpx.AsyncClient) -> None:
    pair = await log_in(gateway)
    valid = await gateway.get("/auth/validate", headers=bearer(pair["token"]))
    assert valid.status_code == 200
    assert valid.json()["role"] == "CLINICIAN"
    assert (await gateway.get("/auth/validate")).status_code == 401
