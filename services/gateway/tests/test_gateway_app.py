from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.testing import app_client


async def test_gateway_is_live_ready_and_serves_metrics_and_openapi() -> None:
    async with app_client(create_app(GatewaySettings())) as http:
        assert (await http.get("/health/live")).json() == {"status": "UP"}
        assert (await http.get("/health/ready")).status_code == 200
        assert "http_requests_total" in (await http.get("/metrics")).text
        assert (await http.get("/openapi.json")).json()["info"]["title"] == "PMS API gateway"


def test_gateway_listens_on_its_contract_port_by_default() -> None:
    assert GatewaySettings().http_port == 4004
