import httpx

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings


def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(GatewaySettings()))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_gateway_is_live_ready_and_serves_metrics_and_openapi() -> None:
    async with client() as http:
        assert (await http.get("/health/live")).json() == {"status": "UP"}
        assert (await http.get("/health/ready")).status_code == 200
        assert "http_requests_total" in (await http.get("/metrics")).text
        assert (await http.get("/openapi.json")).json()["info"]["title"] == "PMS API gateway"


def test_gateway_listens_on_its_contract_port_by_default() -> None:
    assert GatewaySettings().http_port == 4004
