"""Prometheus metrics: request counts and latencies per route, served on ``/metrics``.

Each app gets its own registry so that several apps can live in one test process. The
middleware looks each label set's series up once and keeps it: ``labels()`` on every
request cost more than counting.
"""

import time
from collections.abc import Sequence
from ipaddress import ip_address

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms_platform.errors import NotFoundError
from pms_platform.settings import IpNetwork


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


def _route_template(scope: Scope) -> str:
    """The matched route's template (``/patients/{id}``), never the raw path, so that ids
    do not explode the label set. The router leaves the matched route in the scope."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # (method, route, status) -> its counter; (method, route) -> its histogram. As
        # bounded as the label sets themselves (route templates, not raw paths).
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            counter = self._counters.get((method, route, status))
            if counter is None:
                counter = self.metrics.requests.labels(method, route, str(status))
                self._counters[(method, route, status)] = counter
            counter.inc()
            histogram = self._histograms.get((method, route))
            if histogram is None:
                histogram = self.metrics.latency.labels(method, route)
                self._histograms[(method, route)] = histogram
            histogram.observe(elapsed)


def metrics_router(
    registry: CollectorRegistry, allowed_networks: Sequence[IpNetwork] | None = None
) -> APIRouter:
    """``/metrics``; when ``allowed_networks`` is given, only for clients in them (the
    others get the 404 of an unknown path: the edge does not tell it exists)."""
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        if allowed_networks is not None and not _client_in(request, allowed_networks):
            raise NotFoundError("Not Found")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _client_in(request: Request, networks: Sequence[IpNetwork]) -> bool:
    host = request.client.host if request.client else None
    try:
        address = ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in networks)
