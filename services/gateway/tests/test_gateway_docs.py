"""``/api-docs/{service}`` proxies each service's OpenAPI; ``/docs`` lists them all."""

import httpx

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
