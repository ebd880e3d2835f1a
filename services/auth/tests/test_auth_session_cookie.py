"""A browser's session cookie: set only when the login asks, with HttpOnly, Secure,
SameSite=Strict on the session endpoints' path, rotated by ``/session/refresh``, cleared
by ``/session/logout``; the JSON login, refresh and logout answer as before."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration
Login = Callable[..., Awaitable[dict[str, Any]]]
CLINICIAN = {"email": "clinician@test.com", "password": "password123"}
ASK = {"X-Refresh-Cookie": "1"}


def session_cookie(response: httpx.Response) -> dict[str, str]:
    """The ``pms_refresh`` Set-Cookie as its value and attributes (lower-cased names)."""
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("pms_refresh=")]
    first, *attributes = (part.strip() for part in header.split(";"))
    cookie = {"value": first.split("=", 1)[1]}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        cookie[name.lower()] = value
    return cookie


def sending(cookie: dict[str, str]) -> dict[str, str]:
    return {"Cookie": f"pms_refresh={cookie['value']}"}


async def test_a_login_that_asks_sets_the_refresh_token_as_a_strict_http_only_cookie(
    auth_client: httpx.AsyncClient,
) -> None:
    response = await auth_client.post("/login", json=CLINICIAN, headers=ASK)
    assert response.status_code == 200
    cookie = session_cookie(response)
    assert cookie["value"] == response.json()["refreshToken"]
    assert cookie["path"] == "/auth/session"
    assert cookie["samesite"].lower() == "strict"
    assert {"httponly", "secure"} <= cookie.keys()
    assert int(cookie["max-age"]) == response.json()["refreshExpiresIn"]


async def test_the_json_login_refresh_and_logout_set_no_cookie_and_answer_as_before(
    auth_client: httpx.AsyncClient, login: Login
) -> None:
    plain = await auth_client.post("/login", json=CLINICIAN)
    assert plain.headers.get_list("set-cookie") == []
    assert set(plain.json()) == {
        "token",
        "accessToken",
        "refreshToken",
        "tokenType",
        "expiresIn",
        "refreshExpiresIn",
    }
    refreshed = await auth_client.post(
        "/refresh", json={"refreshToken": plain.json()["refreshToken"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.headers.get_list("set-cookie") == []
    # The cookie is not a refresh token for the JSON API.
    asked = await auth_client.post("/login", json=CLINICIAN, headers=ASK)
    cookie_only = await auth_client.post(
        "/refresh", json={}, headers=sending(session_cookie(asked))
    )
    assert cookie_only.status_code == 400
    logout = await auth_client.post(
        "/logout", json={"refreshToken": refreshed.json()["refreshToken"]}
    )
    assert logout.status_code == 204
    assert logout.headers.get_list("set-cookie") == []


async def test_the_session_refresh_rotates_the_cookie_and_a_used_one_is_refused(
    auth_client: httpx.AsyncClient,
) -> None:
    first = session_cookie(await auth_client.post("/login", json=CLINICIAN, headers=ASK))
    refreshed = await auth_client.post("/session/refresh", headers=sending(first))
    assert refreshed.status_code == 200
    second = session_cookie(refreshed)
    assert second["value"] == refreshed.json()["refreshToken"] != first["value"]
    assert second["path"] == "/auth/session"
    reused = await auth_client.post("/session/refresh", headers=sending(first))
    assert reused.status_code == 401
    none = await auth_client.post("/session/refresh")
    assert (none.status_code, none.content) == (204, b"")  # no session to resume


async def test_the_session_logout_revokes_the_cookies_session_and_clears_it(
    auth_client: httpx.AsyncClient,
) -> None:
    cookie = session_cookie(await auth_client.post("/login", json=CLINICIAN, headers=ASK))
    logout = await auth_client.post("/session/logout", headers=sending(cookie))
    assert logout.status_code == 204
    cleared = session_cookie(logout)
    assert (cleared["value"], cleared["max-age"], cleared["path"]) == ('""', "0", "/auth/session")
    refused = await auth_client.post("/session/refresh", headers=sending(cookie))
    assert refused.status_code == 401
