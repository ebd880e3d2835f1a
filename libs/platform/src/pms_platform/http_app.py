"""The FastAPI factory every service calls, so that all of them share one behaviour:
request ids, access log, problem+json errors, health, metrics and the OpenAPI document."""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from pms_platform.errors import install_problem_handlers
from pms_platform.health import ReadinessCheck, health_router
from pms_platform.metrics import HttpMetrics, MetricsMiddleware, metrics_router
from pms_platform.request_context import RequestContextMiddleware
from pms_platform.security import TokenVerifier
from pms_platform.settings import ServiceSettings

if TYPE_CHECKING:  # a service without a database (the gateway) need not load SQLAlchemy
    from pms_platform.db import Database

ServiceLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    database: "Database | None" = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    lifespan: ServiceLifespan | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    """Build a service's app.

    ``database``, when given, is stored on ``app.state`` for the request session,
    checked by ``/health/ready`` and disposed at shutdown. ``token_verifier`` backs the
    ``CurrentPrincipal`` and ``require_roles`` dependencies and is closed at shutdown.
    ``lifespan`` wraps the service's own start-up and shutdown work (consumers, relays,
    gRPC servers).
    """
    checks: dict[str, ReadinessCheck] = dict(readiness or {})
    if database is not None:
        checks.setdefault("database", database.ping)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            if database is not None:
                await database.dispose()
            if token_verifier is not None:
                await token_verifier.close()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=app_lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = token_verifier
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    install_problem_handlers(app)
    app.include_router(health_router(checks))
    app.include_router(metrics_router(registry))
    for router in routers:
        app.include_router(router)
    # Added last so they run first: the request id must exist before anything logs.
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    app.add_middleware(RequestContextMiddleware)
    return app
