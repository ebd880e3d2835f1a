"""A service's ``/docs`` is served whole by the service: the page and its Swagger UI files
(public, GET only, cached a year under a versioned path), and a page that names no other
host and tells the browser to fetch from this one only."""

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from pms_platform.http_app import create_service_app
from pms_platform.settings import ServiceSettings
from pms_platform.swagger_ui import (
    ASSET_CACHE_CONTROL,
    SWAGGER_UI_ASSETS,
    SWAGGER_UI_ASSETS_PATH,
    SWAGGER_UI_DIRECTORY,
    SWAGGER_UI_VERSION,
    SwaggerUIPage,
)
from pms_testing.http import app_client
from pms_testing.tokens import TokenMinter


@pytest.fixture
async def client(token_minter: TokenMinter) -> AsyncIterator[httpx.AsyncClient]:
    # With a token verifier, as every service has: the docs need no token all the same.
    app = create_service_app(
        ServiceSettings(), title="notes", description="", token_verifier=token_minter.verifier()
    )
    async with app_client(app) as client:
        yield client


def test_the_files_are_swagger_ui_5_under_a_path_naming_the_version() -> None:
    assert re.fullmatch(r"5\.\d+\.\d+", SWAGGER_UI_VERSION)
    assert f"/docs/swagger-ui/{SWAGGER_UI_VERSION}" == SWAGGER_UI_ASSETS_PATH
    assert all((SWAGGER_UI_DIRECTORY / name).is_file() for name in SWAGGER_UI_ASSETS)


async def test_a_services_docs_page_loads_everything_from_the_service(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "//" not in page  # no URL of another host (nor a protocol-relative one)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(sources) == sorted(
        f"{SWAGGER_UI_ASSETS_PATH}/{name}"
        for name in (
            "favicon-32x32.png",
            "swagger-ui.css",
            "swagger-ui-bundle.js",
            "swagger-ui-standalone-preset.js",
        )
    )
    assert '"url": "/openapi.json"' in page
    assert '"validatorUrl": null' in page


async def test_the_page_tells_the_browser_to_fetch_from_this_host_only(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/docs")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == policy["style-src"].split()[0] == "'self'"
    assert policy["img-src"] == "'self' data:"
    # Scripts: this host's files, and the page's one inline script by its hash.
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"


@pytest.mark.parametrize("name", sorted(SWAGGER_UI_ASSETS))
async def test_each_file_is_served_without_a_token_and_cached_a_year(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.get(f"{SWAGGER_UI_ASSETS_PATH}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == SWAGGER_UI_ASSETS[name]
    assert response.headers["cache-control"] == ASSET_CACHE_CONTROL
    assert response.content == (SWAGGER_UI_DIRECTORY / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        f"{SWAGGER_UI_ASSETS_PATH}/index.html",
        f"{SWAGGER_UI_ASSETS_PATH}/..%2F..%2F__init__.py",
        "/docs/swagger-ui/4.0.0/swagger-ui-bundle.js",
    ],
)
async def test_nothing_else_is_served_under_the_files_path(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_the_page_and_its_files_answer_get_only(
    client: httpx.AsyncClient, method: str
) -> None:
    for path in ("/docs", f"{SWAGGER_UI_ASSETS_PATH}/swagger-ui-bundle.js"):
        response = await client.request(method, path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == "GET"
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_docs_are_not_operations_of_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]


async def test_without_a_docs_page_no_swagger_ui_file_is_served() -> None:
    app = create_service_app(ServiceSettings(), title="t", description="", docs_url=None)
    async with app_client(app) as client:
        response = await client.get(f"{SWAGGER_UI_ASSETS_PATH}/swagger-ui-bundle.js")
    assert response.status_code == 404


def test_no_text_of_the_configuration_can_close_the_pages_script() -> None:
    page = SwaggerUIPage("<b>t</b>", {"url": "/x</script><script>alert(1)//"})
    assert page.html.count("</script>") == 3  # the two files' and the inline script's
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in page.html
