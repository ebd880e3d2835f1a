"""Builds the gateway's app from its settings.

The platform's app (request ids, access log, problem+json, metrics, health) with the
route table served by the innermost middleware: a proxied request costs the platform's
middlewares and a prefix check per row of the table, nothing else of the framework.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from pms_gateway.api import readiness_report
from pms_gateway.console import serve_console
from pms_gateway.docs import docs_router
from pms_gateway.metrics import GatewayMetrics
from pms_gateway.proxy import GatewayProxy, ProxyDispatchMiddleware, ProxyRoute
from pms_gateway.rate_limit import RateLimits
from pms_gateway.routes import ROUTES
from pms_gateway.settings import GatewaySettings
from pms_gateway.upstreams import UpstreamPool
from pms_platform.http_app import create_service_app
from pms_platform.logging import configure_logging
from pms_platform.security import TokenVerifier
from pms_platform.server import settle_collector

_CORS_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"]
_CORS_EXPOSED = ["X-Request-ID", "Location", "ETag", "Retry-After", "WWW-Authenticate"]


def create_app(settings: GatewaySettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """``token_verifier`` replaces the one reading auth's JWKS (tests pass their own)."""
    verifier = token_verifier or TokenVerifier.from_settings(settings)
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    upstreams = UpstreamPool(settings, metrics)
    proxy = GatewayProxy(settings, upstreams, verifier, RateLimits.in_process(settings), metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await upstreams.start()
        try:
            yield
        finally:
            await upstreams.close()

    # Inside the platform's middlewares, so that preflight answers and proxied requests
    # carry a request id and are counted too; the route table is served innermost.
    middleware: list[Middleware] = []
    if settings.cors_allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allow_origins,
                allow_credentials=settings.cors_allow_credentials,
                allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=_CORS_HEADERS,
                expose_headers=_CORS_EXPOSED,
                max_age=600,
            )
        )
    routes = [ProxyRoute(rule, settings, metrics) for rule in ROUTES]
    middleware.append(Middleware(ProxyDispatchMiddleware, proxy=proxy, routes=routes))

    app = create_service_app(
        settings,
        title="PMS API gateway",
        description="The single entry point: routing, token checks, limits and one docs page.",
        # FastAPI's one-service Swagger UI makes way for the gateway's page of all services.
        routers=[docs_router(upstreams, settings)],
        docs_url=None,
        readiness_report=readiness_report(upstreams),
        lifespan=lifespan,
        token_verifier=verifier,
        middleware=middleware,
        metrics_registry=registry,
    )
    app.state.upstreams = upstreams
    serve_console(app, settings)
    return app


def create_app_from_environment() -> FastAPI:
    """What each worker process runs when ``workers`` > 1 (uvicorn imports it by name)."""
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    app = create_app(settings)
    settle_collector()  # as ``serve`` does in a single process
    return app
