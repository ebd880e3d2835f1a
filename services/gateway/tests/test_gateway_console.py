"""The gateway serves the built web console at ``/``: hashed assets cached for a year,
``index.html`` never stored, a strict Content-Security-Policy, client-side routes answered
with ``index.html``, and never in place of the API, its docs or the operators' paths."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pms_gateway.console import (
    ASSET_CACHE_CONTROL,
    CONTENT_SECURITY_POLICY,
    default_console_dir,
    is_reserved,
)

from .conftest import GatewayFactory

INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/app-1a2b.js">'
SCRIPT = "console.log('the console');"


@pytest.fixture
def built_console(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1a2b.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for clients")
    return dist


@pytest.fixture
async def console(
    gateway_factory: GatewayFactory, built_console: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_factory(console_dir=built_console) as client:
        yield client


async def test_the_console_page_is_public_and_never_stored(console: httpx.AsyncClient) -> None:
    response = await console.get("/")  # no token: the page holds no data
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"


async def test_the_console_page_has_a_strict_content_security_policy(
    console: httpx.AsyncClient,
) -> None:
    policy = (await console.get("/")).headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "http" not in policy  # no other origin


async def test_hashed_assets_are_cached_for_a_year(console: httpx.AsyncClient) -> None:
    response = await console.get("/assets/app-1a2b.js")
    assert response.status_code == 200
    assert response.text == SCRIPT
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == ASSET_CACHE_CONTROL
    assert ASSET_CACHE_CONTROL == "public, max-age=31536000, immutable"


async def test_other_files_are_served_but_revalidated(console: httpx.AsyncClient) -> None:
    response = await console.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/patients", "/patients/8d2c7f0e", "/administration/users"])
async def test_a_client_side_route_is_answered_with_the_console_page(
    console: httpx.AsyncClient, path: str
) -> None:
    response = await console.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/assets/app-0000.js", "/robots.txt", "/patients/x.json"])
async def test_a_missing_file_is_a_404_problem_not_the_page(
    console: httpx.AsyncClient, path: str
) -> None:
    response = await console.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_no_file_outside_the_console_folder_is_served(console: httpx.AsyncClient) -> None:
    for path in ("/../secret.txt", "/assets/..%2F..%2Fsecret.txt", "/%2e%2e/secret.txt"):
        response = await console.get(path)
        assert "not for clients" not in response.text, path


async def test_head_answers_the_page_headers_without_a_body(console: httpx.AsyncClient) -> None:
    response = await console.head("/patients")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_only_get_and_head_reach_the_console(console: httpx.AsyncClient, method: str) -> None:
    response = await console.request(method, "/patients")
    assert response.status_code == 404
    assert INDEX not in response.text


@pytest.mark.parametrize(
    "path", ["/api/nothing", "/api", "/auth", "/docs/nothing", "/api-docs", "/health/nothing"]
)
async def test_the_api_prefixes_are_never_the_console_page(
    console: httpx.AsyncClient, path: str
) -> None:
    response = await console.get(path)
    assert INDEX not in response.text
    assert "content-security-policy" not in response.headers


async def test_the_apis_docs_and_operator_paths_keep_their_answers(
    console: httpx.AsyncClient,
) -> None:
    assert (await console.post("/auth/login", json={})).json()["upstream"] == "auth"
    assert (await console.get("/api/patients")).status_code == 401  # the proxy, not the page
    assert (await console.get("/health/live")).json()["status"] == "UP"
    assert (await console.get("/metrics")).headers["content-type"].startswith("text/plain")
    assert (await console.get("/openapi.json")).json()["info"]["title"] == "PMS API gateway"
    assert "swagger-ui" in (await console.get("/docs")).text
    assert (await console.post("/health/live")).status_code == 405  # a route's 405 stays


async def test_a_console_not_built_says_so_instead_of_failing(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    async with gateway_factory(console_dir=tmp_path / "not-built") as client:
        response = await client.get("/")
        other = await client.get("/patients")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "make console" in response.json()["detail"]
    assert response.json()["type"].endswith("/console-not-built")
    assert response.json()["requestId"] == response.headers["x-request-id"]
    assert other.status_code == 404


def test_the_default_folder_is_the_repositorys_console_build() -> None:
    assert default_console_dir() == Path(__file__).resolve().parents[3] / "console" / "dist"


def test_reserved_prefixes_are_whole_segments() -> None:
    assert is_reserved("/api/patients")
    assert is_reserved("/metrics")
    assert not is_reserved("/apiary")
    assert not is_reserved("/")
