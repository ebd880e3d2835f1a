"""The gateway as a service: health, readiness, metrics, access log, CORS, settings."""

import json
import logging

import httpx
import pytest
import structlog
from pydantic import ValidationError

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.logging import configure_logging
from pms_testing.http import app_client
from pms_testing.metrics import metric_value
from pms_testing.service_checks import assert_serves_health_metrics_and_openapi
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory


async def test_gateway_is_live_ready_and_serves_metrics_and_openapi() -> None:
    async with app_client(create_app(GatewaySettings())) as http:
        await assert_serves_health_metrics_and_openapi(http, "PMS API gateway")
        assert (await http.get("/health/ready")).status_code == 200


def test_gateway_listens_on_its_contract_port_by_default() -> None:
    assert GatewaySettings().http_port == 4004


async def test_readiness_is_200_with_each_upstreams_state_even_when_one_is_down(
    gateway_factory: GatewayFactory, refused_port: int
) -> None:
    async with gateway_factory(billing_url=f"http://127.0.0.1:{refused_port}") as gw:
        response = await gw.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "UP"
    assert body["components"]["billing"].startswith("DOWN")
    assert {body["components"][name] for name in ("auth", "patients", "analytics")} == {"UP"}
    assert set(body["circuits"].values()) == {"closed"}


async def test_metrics_label_proxied_requests_by_route_pattern_not_raw_path(
    gateway: httpx.AsyncClient, token_minter: TokenMinter
) -> None:
    token = bearer(token_minter.mint())
    await gateway.get("/api/patients/123", headers=token)
    await gateway.get("/api/patients/456", headers=token)
    await gateway.get("/api/patients/789")
    metrics = (await gateway.get("/metrics")).text
    route = "/api/patients/**"
    assert metric_value(metrics, "http_requests_total", route=route, status="200") == 2.0
    assert metric_value(metrics, "http_requests_total", route=route, status="401") == 1.0
    assert "/api/patients/123" not in metrics
    latency = metric_value(
        metrics, "gateway_upstream_response_seconds_count", upstream="patients", route=route
    )
    assert latency == 2.0


async def test_the_access_log_line_names_route_upstream_and_user_but_no_token_or_query(
    gateway: httpx.AsyncClient, token_minter: TokenMinter, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_minter.mint(user_id="user-42")
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("gateway", "INFO", json=True)
    try:
        await gateway.get(
            "/api/patients?search=Jane",
            headers={"X-Request-ID": "req-7", **bearer(token)},
        )
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = saved_handlers, saved_level
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) == 1
    line = access[0]
    assert line["route"] == "/api/patients/**"
    assert line["upstream"] == "patients"
    assert line["user_id"] == "user-42"
    assert line["request_id"] == "req-7"
    assert line["status"] == 200
    assert "duration_ms" in line
    assert line["path"] == "/api/patients"
    # The test's own HTTP client logs its URLs; every other line is the gateway's.
    text = json.dumps([line for line in lines if line.get("logger") != "httpx"])
    assert token not in text
    assert "Jane" not in text


async def test_cors_preflight_is_answered_for_a_configured_origin(
    gateway_factory: GatewayFactory, upstreams: dict[str, object]
) -> None:
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with gateway_factory(cors_allow_origins=["http://localhost:3000"]) as gw:
        allowed = await gw.options("/api/patients", headers=preflight)
        refused = await gw.options(
            "/api/patients", headers={**preflight, "Origin": "http://evil.example"}
        )
        simple = await gw.get("/auth/validate", headers={"Origin": "http://localhost:3000"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_without_configured_origins_there_are_no_cors_headers(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/auth/validate", headers={"Origin": "http://localhost:3000"})
    assert "access-control-allow-origin" not in response.headers


def test_the_jwks_url_follows_the_auth_url_unless_set() -> None:
    derived = GatewaySettings(auth_url="http://auth:4005/")
    assert derived.auth_jwks_url == "http://auth:4005/.well-known/jwks.json"
    explicit = GatewaySettings(auth_url="http://auth:4005", auth_jwks_url="http://keys/jwks")
    assert explicit.auth_jwks_url == "http://keys/jwks"


def test_route_timeouts_must_name_routes_of_the_table() -> None:
    with pytest.raises(ValidationError, match="unknown routes"):
        GatewaySettings(route_response_timeouts={"/api/nothing/**": 5})
