"""The app factory's options for a service that shapes its own edge (the gateway): inner
middleware, no Swagger UI, a readiness report; and ``serve``'s server overrides."""

from typing import Any

import pytest
import uvicorn
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pms_platform import server
from pms_platform.http_app import create_service_app
from pms_platform.request_context import current_request_id
from pms_platform.settings import ServiceSettings
from pms_testing.http import app_client


class AnswerEverything:
    """Answers every request itself, with the request id it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/inner":
            await self.app(scope, receive, send)
            return
        scope["route"] = type("Route", (), {"path": "/inner/**"})()
        body = (current_request_id() or "none").encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


async def test_inner_middleware_runs_inside_the_request_context_and_the_metrics() -> None:
    app = create_service_app(
        ServiceSettings(), title="t", description="", middleware=[Middleware(AnswerEverything)]
    )
    async with app_client(app) as client:
        response = await client.get("/inner", headers={"X-Request-ID": "abc-1"})
        metrics = (await client.get("/metrics")).text

    assert response.text == "abc-1"
    assert response.headers["x-request-id"] == "abc-1"
    assert 'http_requests_total{method="GET",route="/inner/**",status="200"} 1.0' in metrics


async def test_the_documentation_pages_can_be_turned_off_but_the_openapi_document_stays() -> None:
    app = create_service_app(ServiceSettings(), title="t", description="", docs_url=None)
    async with app_client(app) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/docs/oauth2-redirect")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200


async def test_a_readiness_report_answers_200_with_its_body_instead_of_the_checks() -> None:
    async def failing_check() -> None:
        raise ConnectionError

    async def report() -> dict[str, Any]:
        return {"status": "UP", "components": {"upstream": "DOWN: ConnectError"}}

    app = create_service_app(
        ServiceSettings(),
        title="t",
        description="",
        readiness={"broker": failing_check},
        readiness_report=report,
    )
    async with app_client(app) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "UP", "components": {"upstream": "DOWN: ConnectError"}}


def uvicorn_arguments(
    monkeypatch: pytest.MonkeyPatch, *args: Any, **options: Any
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    server.serve(*args, **options)
    return seen


def test_serve_keeps_uvicorns_defaults_for_forwarded_headers_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_service_app(ServiceSettings(), title="t", description="")
    seen = uvicorn_arguments(monkeypatch, app, ServiceSettings(http_port=4100))

    assert seen["app"] is app
    assert (seen["factory"], seen["workers"], seen["port"]) == (False, None, 4100)
    assert (seen["proxy_headers"], seen["forwarded_allow_ips"]) == (True, None)


def test_serve_runs_several_workers_from_a_factory_and_trusts_only_the_named_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ServiceSettings()
    several = uvicorn_arguments(
        monkeypatch, "pkg.app:create", settings, workers=4, forwarded_allow_ips="10.0.0.1"
    )
    none_trusted = uvicorn_arguments(
        monkeypatch, "pkg.app:create", settings, forwarded_allow_ips=""
    )

    assert (several["app"], several["factory"], several["workers"]) == ("pkg.app:create", True, 4)
    assert (several["proxy_headers"], several["forwarded_allow_ips"]) == (True, "10.0.0.1")
    assert (none_trusted["proxy_headers"], none_trusted["forwarded_allow_ips"]) == (False, None)


def test_serve_refuses_several_workers_without_a_factory() -> None:
    app = create_service_app(ServiceSettings(), title="t", description="")
    with pytest.raises(ValueError, match="import string"):
        server.serve(app, ServiceSettings(), workers=2)
