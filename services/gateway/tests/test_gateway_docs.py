"""``/api-docs/{service}`` proxies each service's OpenAPI; ``/docs`` lists them all."""

from typing import Any

import httpx
import pytest

from pms_gateway.docs import served
from pms_gateway.routes import find_route
from pms_gateway.settings import GatewaySettings
from pms_platform.swagger_ui import ASSET_CACHE_CONTROL, SWAGGER_UI_ASSETS, SWAGGER_UI_ASSETS_PATH
from pms_testing.servers import RunningUpstream

from .conftest import GatewayFactory


async def test_api_docs_proxies_the_services_openapi_document(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream]
) -> None:
    response = await gateway.get("/api-docs/patients")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "patients API"
    assert document["paths"] == {"/patients": {}}
    assert upstreams["patients"].app.received[-1].path == "/openapi.json"


async def test_api_docs_point_try_it_out_at_the_gateway(gateway: httpx.AsyncClient) -> None:
    servers = {
        name: (await gateway.get(f"/api-docs/{name}")).json()["servers"]
        for name in ("auth", "patients", "billing", "analytics")
    }
    assert servers == {
        "auth": [{"url": "/auth"}],
        "patients": [{"url": "/api"}],
        "billing": [{"url": "/api"}],
        "analytics": [{"url": "/api"}],
    }


async def test_api_docs_of_an_unknown_service_is_404(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api-docs/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_api_docs_of_a_service_that_is_down_is_503(
    gateway_factory: GatewayFactory, refused_port: int
) -> None:
    async with gateway_factory(billing_url=f"http://127.0.0.1:{refused_port}") as gw:
        response = await gw.get("/api-docs/billing")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_docs_is_one_swagger_ui_listing_every_service(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "SwaggerUIBundle" in page
    for name in ("auth", "patients", "billing", "analytics"):
        assert f'"url": "/api-docs/{name}"' in page
    assert '"url": "/openapi.json"' in page
    assert '"layout": "StandaloneLayout"' in page  # the selector of the documents


async def test_docs_loads_swagger_ui_from_the_gateway_and_no_other_host(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/docs")
    assert "//" not in response.text  # no URL of another host (nor a protocol-relative one)
    assert f'src="{SWAGGER_UI_ASSETS_PATH}/swagger-ui-bundle.js"' in response.text
    assert '"validatorUrl": null' in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("name", sorted(SWAGGER_UI_ASSETS))
async def test_the_swagger_ui_files_are_the_gateways_own_public_and_get_only(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], name: str
) -> None:
    path = f"{SWAGGER_UI_ASSETS_PATH}/{name}"
    response = await gateway.get(path)  # no token
    assert response.status_code == 200
    assert response.headers["content-type"] == SWAGGER_UI_ASSETS[name]
    assert response.headers["cache-control"] == ASSET_CACHE_CONTROL
    refused = await gateway.post(path)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET"
    assert all(not up.app.received for up in upstreams.values())


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def test_no_route_of_the_table_forwards_the_docs_or_their_files(method: str) -> None:
    for path in ("/docs", f"{SWAGGER_UI_ASSETS_PATH}/swagger-ui-bundle.js"):
        assert find_route(method, path) is None


def test_a_served_document_has_the_public_operations_and_the_gateways_own_answers() -> None:
    def operation(*statuses: str, body: bool = False) -> dict[str, Any]:
        found: dict[str, Any] = {"responses": {status: {"description": "-"} for status in statuses}}
        return found | ({"requestBody": {"content": {}}} if body else {})

    document: dict[str, Any] = {
        "paths": {
            "/patients": {"get": operation("200", "401"), "post": operation("201", body=True)},
            "/health/live": {"get": operation("200")},
            "/metrics": {"get": operation("200")},
        }
    }
    served_document = served(document, "/api", GatewaySettings())
    assert served_document["servers"] == [{"url": "/api"}]
    assert list(served_document["paths"]) == ["/patients"]
    listing, creation = (served_document["paths"]["/patients"][m] for m in ("get", "post"))
    assert list(listing["responses"]) == ["200", "401", "403", "429", "502", "503", "504"]
    assert listing["responses"]["401"] == {"description": "-"}  # the service's own stays
    assert "408" in creation["responses"]
    assert "413" in creation["responses"]
    assert "Retry-After" in creation["responses"]["429"]["headers"]


def test_a_served_login_documents_the_login_limits_and_no_role_refusal() -> None:
    document: dict[str, Any] = {"paths": {"/login": {"post": {"responses": {"200": {}}}}}}
    responses = served(document, "/auth", GatewaySettings())["paths"]["/login"]["post"]["responses"]
    assert list(responses) == ["200", "429", "502", "503", "504"]
    unlimited = GatewaySettings(
        rate_limit_login_per_address="off",
        rate_limit_login_per_email="off",
        max_concurrent_requests_per_client=0,
    )
    document = {"paths": {"/login": {"post": {"responses": {"200": {}}}}}}
    assert "429" not in served(document, "/auth", unlimited)["paths"]["/login"]["post"]["responses"]
