"""One documentation page for every service, through the gateway."""

import httpx
import pytest


@pytest.mark.parametrize("service", ["auth", "patients", "billing", "analytics"])
async def test_each_services_openapi_is_served(gateway: httpx.AsyncClient, service: str) -> None:
    response = await gateway.get(f"/api-docs/{service}")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["paths"]


async def test_one_swagger_page_lists_every_service(gateway: httpx.AsyncClient) -> None:
    page = await gateway.get("/docs")
    assert page.status_code == 200
    for service in ("auth", "patients", "billing", "analytics"):
        assert f"/api-docs/{service}" in page.text
