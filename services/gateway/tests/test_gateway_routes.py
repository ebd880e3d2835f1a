"""The route table over real HTTP: which upstream gets what path, and what is unknown."""

import httpx
import pytest

from pms_gateway.routes import ROUTES, find_route
from pms_platform.security import Role
from pms_testing.raw_http import raw_exchange
from pms_testing.servers import RunningUpstream
from pms_testing.tokens import TokenMinter, bearer


@pytest.mark.parametrize(
    ("method", "path", "role", "upstream", "upstream_path"),
    [
        ("POST", "/auth/login", None, "auth", "/login"),
        ("GET", "/auth/validate", None, "auth", "/validate"),
        ("POST", "/auth/refresh", None, "auth", "/refresh"),
        ("POST", "/auth/logout", None, "auth", "/logout"),
        ("GET", "/auth/me", None, "auth", "/me"),
        ("GET", "/auth/users/42", None, "auth", "/users/42"),
        ("GET", "/auth/.well-known/jwks.json", None, "auth", "/.well-known/jwks.json"),
        ("GET", "/api/patients", Role.CLINICIAN, "patients", "/patients"),
        ("POST", "/api/patients", Role.CLINICIAN, "patients", "/patients"),
        ("PUT", "/api/patients/7", Role.ADMIN, "patients", "/patients/7"),
        ("DELETE", "/api/patients/7", Role.ADMIN, "patients", "/patients/7"),
        ("GET", "/api/patients/7/history", Role.ADMIN, "patients", "/patients/7/history"),
        ("GET", "/api/audit", Role.ADMIN, "patients", "/audit"),
        ("GET", "/api/billing/accounts/1", Role.CLINICIAN, "billing", "/billing/accounts/1"),
        ("GET", "/api/analytics/summary", Role.ANALYST, "analytics", "/analytics/summary"),
    ],
)
async def test_every_route_reaches_its_upstream_with_the_path_rewritten(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    method: str,
    path: str,
    role: Role | None,
    upstream: str,
    upstream_path: str,
) -> None:
    headers = bearer(token_minter.mint(role)) if role else {}
    response = await gateway.request(method, path, headers=headers, content=b"{}")
    assert response.status_code == 200
    assert response.json()["upstream"] == upstream
    received = upstreams[upstream].app.received[-1]
    assert (received.method, received.path) == (method, upstream_path)


async def test_query_string_and_percent_encoding_pass_unchanged(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    response = await gateway.get(
        "/api/patients/a%2Fb%20c?search=Jane%20Doe&page=2", headers=bearer(token_minter.mint())
    )
    assert response.status_code == 200
    received = upstreams["patients"].app.received[-1]
    assert received.raw_path == "/patients/a%2Fb%20c"
    assert received.query == "search=Jane%20Doe&page=2"


@pytest.mark.parametrize(
    "path", ["/api/unknown", "/api/patientsx", "/api", "/apix/patients", "/nothing", "/authx"]
)
async def test_unknown_paths_are_404_problems(
    gateway: httpx.AsyncClient, token_minter: TokenMinter, path: str
) -> None:
    response = await gateway.get(path, headers=bearer(token_minter.mint()))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "path", ["/auth/metrics", "/auth/health/live", "/auth/health/ready", "/auth/metrics/"]
)
async def test_internal_endpoints_of_the_services_are_not_public(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], path: str
) -> None:
    response = await gateway.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert not upstreams["auth"].app.received


@pytest.mark.parametrize(
    "target", ["/api/patients/../billing/1", "/api/patients/./7", "/auth/../api/patients"]
)
async def test_dot_segments_are_refused_before_any_upstream(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    target: str,
) -> None:
    request = (
        f"GET {target} HTTP/1.1\r\nHost: gateway\r\n"
        f"Authorization: Bearer {token_minter.mint()}\r\nConnection: close\r\n\r\n"
    ).encode()
    response = await raw_exchange(str(gateway.base_url), request)
    assert response.status == 400
    assert all(not up.app.received for up in upstreams.values())


@pytest.mark.parametrize("status", [201, 204, 400, 404, 409, 418, 500, 503])
async def test_upstream_status_headers_and_body_pass_through_unchanged(
    gateway: httpx.AsyncClient, token_minter: TokenMinter, status: int
) -> None:
    response = await gateway.post(
        f"/api/patients/status/{status}", headers=bearer(token_minter.mint()), json={"a": 1}
    )
    assert response.status_code == status
    assert response.headers["location"] == "/somewhere"
    if status != 204:
        assert response.json()["path"] == f"/patients/status/{status}"


async def test_head_requests_get_the_upstream_headers_without_a_body(
    gateway: httpx.AsyncClient, token_minter: TokenMinter
) -> None:
    response = await gateway.head("/api/patients", headers=bearer(token_minter.mint()))
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_the_table_tries_exact_routes_before_wildcards() -> None:
    login = find_route("POST", "/auth/login")
    assert login is not None
    assert login.login
    other = find_route("GET", "/auth/login")
    assert other is not None
    assert other.pattern == "/auth/**"
    assert other.rewrite("/auth/login") == "/login"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/patients", "/patients"),
        ("/api/patients/", "/patients/"),
        ("/api/patients/7", "/patients/7"),
        ("/auth", "/"),
        ("/auth/refresh", "/refresh"),
        ("/api/audit", "/audit"),
    ],
)
def test_wildcards_rewrite_the_prefix_and_keep_the_rest(path: str, expected: str) -> None:
    rule = find_route("GET", path)
    assert rule is not None
    assert rule.rewrite(path) == expected


def test_every_api_route_needs_a_role_and_no_auth_route_does() -> None:
    for rule in ROUTES:
        assert (rule.roles is not None) == rule.pattern.startswith("/api/")
