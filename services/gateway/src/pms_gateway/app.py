"""Builds the gateway's app from its settings.

The platform's app (request ids, access log, problem+json, metrics, health) with the
route table served by the innermost middleware: a proxied request costs the platform's
middlewares and a prefix check per row of the table, nothing else of the framework.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from pms_gateway.access_log import AccessLogFieldsMiddleware
from pms_gateway.api import readiness_router
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

_REPLACED_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})
_CORS_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"]
_CORS_EXPOSED = ["X-Request-ID", "Location", "ETag", "Retry-After", "WWW-Authenticate"]


def create_app(settings: GatewaySettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """``token_verifier`` replaces the one reading auth's JWKS (tests pass their own)."""
    verifier = token_verifier or TokenVerifier.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await upstreams.start()
        try:
            yield
        finally:
            await upstreams.close()

    app = create_service_app(
        settings,
        title="PMS API gateway",
        description="The single entry point: routing, token checks, limits and one docs page.",
        lifespan=lifespan,
        token_verifier=verifier,
    )
    metrics = GatewayMetrics(app.state.metrics_registry)
    upstreams = UpstreamPool(settings, metrics)
    proxy = GatewayProxy(settings, upstreams, verifier, RateLimits.in_process(settings), metrics)
    app.state.upstreams = upstreams

    # FastAPI's one-service Swagger UI makes way for the gateway's page of all services.
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in _REPLACED_PATHS
    ]
    # The gateway's readiness goes first: it shadows the platform's generic one.
    app.include_router(readiness_router(upstreams))
    app.router.routes.insert(0, app.router.routes.pop())
    app.include_router(docs_router(upstreams, settings))

    if settings.cors_allow_origins:
        # Inside the platform's middlewares, so that preflight answers carry a request id
        # and are counted too.
        app.user_middleware.append(
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
    app.user_middleware.append(Middleware(ProxyDispatchMiddleware, proxy=proxy, routes=routes))
    app.add_middleware(AccessLogFieldsMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    """What each worker process runs when ``workers`` > 1 (uvicorn imports it by name)."""
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return create_app(settings)
