"""The FastAPI factory every service calls, so that all of them share one behaviour:
request ids, access log, problem+json errors, health, metrics and the OpenAPI document,
and the background workers started and stopped around the service's own lifespan."""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware

from pms_platform.errors import UnhandledErrorMiddleware, install_problem_handlers
from pms_platform.health import ReadinessCheck, ReadinessReport, health_router
from pms_platform.load_shedding import LoadSheddingMiddleware
from pms_platform.logging import get_logger
from pms_platform.metrics import HttpMetrics, MetricsMiddleware, metrics_router
from pms_platform.openapi import document_problems
from pms_platform.request_context import RequestContextMiddleware
from pms_platform.security import TokenVerifier
from pms_platform.settings import ServiceSettings
from pms_platform.swagger_ui import swagger_ui_router

if TYPE_CHECKING:  # a service without a database (the gateway) need not load SQLAlchemy
    from pms_platform.db import Database
    from pms_platform.workers import Worker

ServiceLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
_log = get_logger("pms.workers")


@asynccontextmanager
async def running_workers(
    workers: "Sequence[Worker]", stop_timeout_seconds: float
) -> AsyncIterator[None]:
    """Start ``workers`` in order (a failed start stops those already started and
    fails the start-up); at exit stop them all together, each within the timeout. A
    worker must not need another: what they share is opened by the service's lifespan."""
    started: list[Worker] = []
    try:
        for worker in workers:
            await worker.start()
            started.append(worker)
        yield
    finally:
        stopped = await asyncio.gather(
            *(worker.stop(stop_timeout_seconds) for worker in started), return_exceptions=True
        )
        for worker, result in zip(started, stopped, strict=True):
            if isinstance(result, BaseException):
                _log.error(
                    "worker failed to stop",
                    worker=type(worker).__name__,
                    error_type=type(result).__name__,
                )


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    database: "Database | None" = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    readiness_report: ReadinessReport | None = None,
    lifespan: ServiceLifespan | None = None,
    workers: "Sequence[Worker]" = (),
    token_verifier: TokenVerifier | None = None,
    middleware: Sequence[Middleware] = (),
    metrics_registry: CollectorRegistry | None = None,
    docs_url: str | None = "/docs",
) -> FastAPI:
    """Build a service's app.

    ``database``, when given, is stored on ``app.state`` for the request session,
    checked by ``/health/ready`` and disposed at shutdown. ``readiness`` adds checks to
    ``/health/ready``; ``readiness_report`` replaces them (see :mod:`pms_platform.health`).
    ``token_verifier`` backs the ``CurrentPrincipal`` and ``require_roles`` dependencies
    and is closed at shutdown. ``lifespan`` wraps the service's own start-up and
    shutdown work (seeding, clients, a gRPC server). ``workers`` (outbox relays,
    consumers, retry loops) start after that start-up and stop, together, before its
    shutdown, only when the ``background_workers`` setting is on.

    ``middleware`` runs inside the platform's (request id and access log, the HTTP
    metrics, load shedding beyond ``max_concurrent_requests``, then the answer to
    unhandled errors: 503 for a database outage, else 500), in the order given.
    ``metrics_registry`` is the registry ``/metrics`` serves (a new one unless given:
    pass it to build metrics before the app);
    ``docs_url`` is the service's Swagger UI, served with its files from the platform
    (:mod:`pms_platform.swagger_ui`; ``None``: none).
    """
    checks: dict[str, ReadinessCheck] = dict(readiness or {})
    is_unavailable = None
    if database is not None:
        checks.setdefault("database", database.ping)
        # Imported here: the gateway, which has no database, need not load SQLAlchemy.
        from pms_platform.db import is_database_unavailable

        is_unavailable = is_database_unavailable

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as stack:
                if token_verifier is not None:
                    token_verifier.start()  # the keys are here before the first token
                if lifespan is not None:
                    await stack.enter_async_context(lifespan(app))
                if settings.background_workers:
                    await stack.enter_async_context(
                        running_workers(workers, settings.shutdown_grace_seconds)
                    )
                yield
        finally:
            if database is not None:
                await database.dispose()
            if token_verifier is not None:
                await token_verifier.close()

    registry = CollectorRegistry() if metrics_registry is None else metrics_registry
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=app_lifespan,
        # The platform has its own request ids, trace parents and Prometheus metrics;
        # FastAPI's OpenTelemetry layer (no provider configured) only asked, on every
        # request, whether one had been.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
        # FastAPI's pages load their scripts from public hosts (a blank page offline);
        # the platform serves Swagger UI itself, below. ReDoc has no offline copy here.
        docs_url=None,
        redoc_url=None,
        # First runs first: the request id must exist before anything logs.
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(MetricsMiddleware, metrics=HttpMetrics(registry)),
            Middleware(LoadSheddingMiddleware, max_in_flight=settings.max_concurrent_requests),
            Middleware(UnhandledErrorMiddleware, is_unavailable=is_unavailable),
            *middleware,
        ],
    )
    app.state.settings = settings
    app.state.database = database
    app.state.token_verifier = token_verifier
    app.state.metrics_registry = registry
    install_problem_handlers(app)
    document_problems(app)
    app.include_router(health_router(checks, readiness_report))
    app.include_router(metrics_router(registry, settings.metrics_allowed_networks))
    if docs_url is not None:
        app.include_router(swagger_ui_router(docs_url, title, {"url": app.openapi_url}))
    for router in routers:
        app.include_router(router)
    return app
