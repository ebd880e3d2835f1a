"""The list's fast path (:mod:`pms_patients.list_fast_path`): a plain ``GET /patients``
answered before FastAPI's routing, byte for byte as the route answers it, and every
other request handed on to the route."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from pms_patients.api import LIST_ROUTE, READER_ROLES
from pms_patients.list_fast_path import PatientListFastPath, plain_list_query
from pms_patients.service import PatientService
from pms_platform.security import Role
from pms_testing.tokens import TokenMinter

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


class CountingService:
    """The app's service as the route finds it, counting the route's lists."""

    def __init__(self, service: PatientService) -> None:
        self._service = service
        self.lists = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    async def list(self, *args: Any) -> Any:
        self.lists += 1
        return await self._service.list(*args)


async def register_three(client: httpx.AsyncClient, headers: Headers) -> None:
    for name in ("Ada Fast", "Ben Fast", "Cy Fast"):
        unique = uuid.uuid4().hex[:8]
        body = {
            "name": f"{name} {unique}",
            "email": f"fast.{unique}@example.com",
            "address": "1 Quick Lane",
            "dateOfBirth": "1980-02-03",
            "registeredDate": "2020-02-03",
        }
        response = await client.post("/patients", json=body, headers=headers[Role.ADMIN])
        assert response.status_code == 201


@pytest.mark.parametrize(
    ("plain", "declined"),
    [
        # The second of each pair means the same but repeats a parameter, which the fast
        # path leaves to the route (the Link keeps no page or size of the request).
        ("", "?size=50&size=50"),
        ("?page=2&size=1", "?page=2&size=1&size=1"),
        ("?sort=-name&size=2", "?sort=-name&size=2&size=2"),
        ("?search=fast&size=2&extra=kept", "?search=fast&size=2&extra=kept&page=1&page=1"),
        ("?search=nobody%20here", "?search=nobody%20here&size=50&size=50"),
    ],
)
async def test_a_plain_list_is_answered_before_the_route_with_the_routes_own_bytes(
    client: httpx.AsyncClient, patients_app: FastAPI, as_role: Headers, plain: str, declined: str
) -> None:
    await register_three(client, as_role)
    counting = CountingService(patients_app.state.patient_service)
    patients_app.state.patient_service = counting
    headers = {**as_role[Role.CLINICIAN], "X-Request-Id": "fast-path-compare"}

    fast = await client.get(f"/patients{plain}", headers=headers)
    assert counting.lists == 0  # the route was not reached
    routed = await client.get(f"/patients{declined}", headers=headers)
    assert counting.lists == 1

    assert fast.status_code == routed.status_code == 200
    assert fast.headers.raw == routed.headers.raw
    assert fast.content == routed.content


async def test_the_fast_path_is_in_the_apps_middleware(patients_app: FastAPI) -> None:
    layers: list[object] = [layer.cls for layer in patients_app.user_middleware]
    assert PatientListFastPath in layers


def _scope(method: str, path: str, query: bytes, authorization: str | None) -> Scope:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
    }


@pytest.mark.parametrize(
    ("method", "path", "query", "role", "why"),
    [
        ("GET", "/patients", b"", None, "no token"),
        ("GET", "/patients", b"", "not-a-token", "a bad token"),
        ("GET", "/patients", b"", Role.ANALYST, "a role that may not read patients"),
        ("GET", "/patients", b"page=0", Role.ADMIN, "a page out of range"),
        ("GET", "/patients", b"size=501", Role.ADMIN, "a size out of range"),
        ("GET", "/patients", b"page=two", Role.ADMIN, "a page that is no number"),
        ("GET", "/patients", b"sort=age", Role.ADMIN, "an unknown sort key"),
        ("GET", "/patients", b"page=1&page=2", Role.ADMIN, "a repeated parameter"),
        ("GET", "/patients", b"search=%00", Role.ADMIN, "text that cannot be stored"),
        ("GET", "/patients", "search=é".encode(), Role.ADMIN, "a query that is not ASCII"),
        ("POST", "/patients", b"", Role.ADMIN, "another method"),
        ("GET", "/patients/", b"", Role.ADMIN, "another path"),
    ],
)
async def test_every_other_request_goes_on_to_the_route(
    token_minter: TokenMinter,
    method: str,
    path: str,
    query: bytes,
    role: Role | str | None,
    why: str,
) -> None:
    reached: list[Scope] = []

    async def route(scope: Scope, _receive: Receive, _send: Send) -> None:
        reached.append(scope)

    async def no_body() -> Message:
        return {"type": "http.request", "body": b""}

    async def refuse_answer(message: Message) -> None:
        raise AssertionError(f"the fast path answered ({why})")

    authorization = None
    if isinstance(role, Role):
        authorization = token_minter.authorization(role)["Authorization"]
    elif role is not None:
        authorization = f"Bearer {role}"
    fast_path = PatientListFastPath(
        route,
        database=None,  # type: ignore[arg-type]  # declined before any database work
        service=None,  # type: ignore[arg-type]
        verifier=token_minter.verifier(),
        roles=READER_ROLES,
        route=LIST_ROUTE,
    )
    await fast_path(_scope(method, path, query, authorization), no_body, refuse_answer)
    assert len(reached) == 1, why


def test_the_plain_query_is_the_one_the_route_validates() -> None:
    query = plain_list_query(b"page=3&size=20&search=Ann%20Lee&sort=-registeredDate&other=x")
    assert query is not None
    assert (query.page, query.size, query.search, query.sort) == (
        3,
        20,
        "Ann Lee",
        "-registeredDate",
    )
    defaults = plain_list_query(b"")
    assert defaults is not None
    assert (defaults.page, defaults.size, defaults.search, defaults.sort) == (1, 50, None, "name")
