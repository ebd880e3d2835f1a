"""One documentation page for every service, through the gateway."""

import httpx
import pytest

from pms_cli.platform import Platform
from pms_platform.swagger_ui import ASSET_CACHE_CONTROL, SWAGGER_UI_ASSETS_PATH


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


async def test_the_swagger_ui_files_are_public_get_only_and_cached_on_the_gateway_and_each_service(
    gateway: httpx.AsyncClient, platform: Platform
) -> None:
    bundle = f"{SWAGGER_UI_ASSETS_PATH}/swagger-ui-bundle.js"
    bases = [str(gateway.base_url).rstrip("/")] + [
        running.spec.base_url for running in platform.services
    ]
    async with httpx.AsyncClient(timeout=10.0) as client:
        for base in bases:
            response = await client.get(base + bundle)  # no token
            assert response.status_code == 200, base
            assert response.headers["cache-control"] == ASSET_CACHE_CONTROL
            refused = await client.post(base + bundle)
            assert refused.status_code == 405, base
            assert refused.headers["allow"] == "GET"
