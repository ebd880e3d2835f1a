"""Every error class of the contract, as problem+json, through the gateway."""

import asyncio
import uuid
from datetime import date
from typing import Any

import httpx

from pms_cli.platform import Platform

PROBLEM = "application/problem+json"


def patient(**changes: Any) -> dict[str, Any]:
    unique = uuid.uuid4().hex[:10]
    return {
        "name": "Error Case",
        "email": f"error.{unique}@example.com",
        "address": "4 Failure Street",
        "dateOfBirth": "1990-01-01",
        "registeredDate": date.today().isoformat(),
        **changes,
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


async def test_bad_input_is_400_with_field_messages(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    response = await gateway.post(
        "/api/patients",
        json=patient(email="nope", dateOfBirth="1990-02-31"),
        headers=headers_of["ADMIN"],
    )
    body = assert_problem(response, 400)
    assert body["errors"] == {
        "email": "Email should be valid",
        "dateOfBirth": "Date of birth must be a valid calendar date",
    }
    assert body["requestId"] == response.headers["x-request-id"]


async def test_no_token_is_401_and_the_wrong_role_403(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    assert_problem(await gateway.get("/api/patients"), 401)
    assert_problem(await gateway.get("/api/patients", headers=headers_of["ANALYST"]), 403)


async def test_unknown_things_are_404(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    assert_problem(
        await gateway.get(f"/api/patients/{uuid.uuid4()}", headers=headers_of["ADMIN"]), 404
    )
    # Below the API's prefixes; any other path is a page of the web console (index.html).
    assert_problem(await gateway.get("/api/no/such/route"), 404)


async def test_a_duplicate_email_is_409(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    body = patient()
    assert (
        await gateway.post("/api/patients", json=body, headers=headers_of["ADMIN"])
    ).status_code == 201
    again = await gateway.post("/api/patients", json=body, headers=headers_of["ADMIN"])
    assert assert_problem(again, 409)["detail"] == "Email address already exists"


async def test_a_stale_write_is_412(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    created = await gateway.post("/api/patients", json=patient(), headers=headers_of["ADMIN"])
    url = f"/api/patients/{created.json()['id']}"
    stale = await gateway.put(
        url, json=patient(), headers={**headers_of["ADMIN"], "If-Match": '"99"'}
    )
    assert_problem(stale, 412)


async def test_a_body_over_one_mebibyte_is_413(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    huge = patient(address="x" * (1024 * 1024 + 1))
    assert_problem(await gateway.post("/api/patients", json=huge, headers=headers_of["ADMIN"]), 413)


async def test_repeated_failed_logins_are_429_with_retry_after(gateway: httpx.AsyncClient) -> None:
    email = f"nobody.{uuid.uuid4().hex[:8]}@test.com"
    statuses = []
    for _ in range(7):
        response = await gateway.post(
            "/auth/login", json={"email": email, "password": "wrong-guess"}
        )
        statuses.append(response.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert int(response.headers["retry-after"]) > 0


async def test_a_service_that_is_down_is_503_and_served_again_when_it_is_back(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]], platform: Platform
) -> None:
    await platform.stop_service("analytics")
    try:
        down = await gateway.get("/api/analytics/summary", headers=headers_of["ANALYST"])
        assert_problem(down, 503)
    finally:
        await platform.start_service("analytics")
    # The breaker may hold the door shut for a few seconds after the outage.
    for _ in range(50):
        back = await gateway.get("/api/analytics/summary", headers=headers_of["ANALYST"])
        if back.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert back.status_code == 200


async def test_patient_data_is_never_cached_nor_sniffed_through_the_gateway(
    gateway: httpx.AsyncClient, headers_of: dict[str, dict[str, str]]
) -> None:
    created = await gateway.post("/api/patients", json=patient(), headers=headers_of["ADMIN"])
    for response in (
        created,
        await gateway.get("/api/patients", headers=headers_of["ADMIN"]),
        await gateway.get(f"/api/patients/{created.json()['id']}", headers=headers_of["ADMIN"]),
        await gateway.get("/api/patients"),  # a 401 problem
    ):
        # Once each: the gateway adds them only when the service has not.
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
        assert response.headers.get_list("cache-control") == ["no-store"]
