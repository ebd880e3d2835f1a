"""The checks every service passes the same way: live, serving metrics and its OpenAPI
document; ready on its dependencies, not ready without the broker. Each service's
``test_<service>_app.py`` calls them with its own client."""

import httpx


async def assert_serves_health_metrics_and_openapi(
    client: httpx.AsyncClient, title: str, metrics: tuple[str, ...] = ()
) -> None:
    """``/health/live`` says UP, ``/metrics`` has the HTTP request counter (and every
    metric named in ``metrics``), and ``/openapi.json`` carries ``title``."""
    assert (await client.get("/health/live")).json() == {"status": "UP"}
    text = (await client.get("/metrics")).text
    for name in ("http_requests_total", *metrics):
        assert name in text, f"{name} is not among the metrics"
    document = (await client.get("/openapi.json")).json()
    assert document["info"]["title"] == title


async def assert_ready(client: httpx.AsyncClient, components: dict[str, str]) -> None:
    """``/health/ready`` is 200 and reports exactly ``components`` (each ``UP``)."""
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["components"] == components


async def assert_not_ready_without_the_broker(client: httpx.AsyncClient) -> None:
    """``/health/ready`` is 503, naming Kafka as down."""
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["kafka"].startswith("DOWN")
