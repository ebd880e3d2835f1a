"""A ``grpc.aio`` server that runs inside a service's HTTP process, started and stopped
by its lifespan, with what every gRPC service here needs:

- the standard health service (``grpc.health.v1.Health``) and server reflection, so
  ``grpcurl`` and load balancers can list, call and probe it;
- bounded concurrency: beyond ``max_concurrent_rpcs`` calls in flight, new calls are
  refused at once with ``RESOURCE_EXHAUSTED`` instead of queueing without end;
- the request id from the ``x-request-id`` metadata (or a new one) bound to every log
  line and to events the call publishes, and returned in the trailing metadata;
- one access-log line and Prometheus metrics per call; a database outage answered as
  ``UNAVAILABLE`` (the caller may retry), any other unexpected error as ``INTERNAL``,
  both with a generic message (details go to the log, never to the client);
- graceful stop: health turns ``NOT_SERVING``, new calls are refused, calls in flight
  get ``grace_seconds`` to finish.

Deadlines: grpc.aio cancels a handler's task when its deadline passes, which cancels
the database work it awaits; handlers also read ``context.time_remaining()``.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]
from prometheus_client import CollectorRegistry, Counter, Histogram

from pms_platform.db import is_database_unavailable
from pms_platform.errors import UNAVAILABLE_DETAIL, UNEXPECTED_DETAIL
from pms_platform.logging import get_logger
from pms_platform.request_context import REQUEST_ID_METADATA, bound_request_id

_QUIET_PREFIXES = ("/grpc.health.", "/grpc.reflection.")
_log = get_logger("pms.grpc")


@dataclass(frozen=True)
class GrpcService:
    """A service to serve: its full name (for health and reflection) and the generated
    ``add_..._to_server`` call that registers its servicer."""

    name: str
    register: Callable[[grpc.aio.Server], None]


class GrpcMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "grpc_server_handled_total",
            "gRPC calls by method and status code",
            ["method", "code"],
            registry=registry,
        )
        self.latency = Histogram(
            "grpc_server_handling_seconds",
            "gRPC call latency by method",
            ["method"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


def _final_code(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK


class RequestContextInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every unary call: request id, access log, metrics, no leaked internals."""

    def __init__(self, metrics: GrpcMetrics | None = None) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streaming calls (reflection, health watch) pass through
        method: str = handler_call_details.method
        behaviour = handler.unary_unary
        metadata = dict(handler_call_details.invocation_metadata or ())
        sent_id = metadata.get(REQUEST_ID_METADATA)

        async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            with bound_request_id(sent_id if isinstance(sent_id, str) else None) as request_id:
                context.set_trailing_metadata(((REQUEST_ID_METADATA, request_id),))
                started = time.perf_counter()
                code = grpc.StatusCode.OK
                recorded = False
                try:
                    response = await behaviour(request, context)
                    code = _final_code(context)
                    return response
                except grpc.aio.AbortError:
                    code = _final_code(context)
                    raise
                except BaseException as error:
                    if not isinstance(error, Exception):  # cancelled: deadline or client gone
                        remaining = context.time_remaining()
                        expired = remaining is not None and remaining <= 0
                        code = (
                            grpc.StatusCode.DEADLINE_EXCEEDED
                            if expired
                            else grpc.StatusCode.CANCELLED
                        )
                        raise
                    if is_database_unavailable(error):
                        code, detail = grpc.StatusCode.UNAVAILABLE, UNAVAILABLE_DETAIL
                        _log.warning(
                            "dependency unavailable",
                            method=method,
                            error_type=type(error).__name__,
                        )
                    else:
                        code, detail = grpc.StatusCode.INTERNAL, UNEXPECTED_DETAIL
                        _log.error("unhandled error", method=method, exc_info=error)
                    # Counted before the status leaves: abort sends it and yields, and a
                    # caller that reads the metrics after its answer must find the call.
                    self._record(method, code, time.perf_counter() - started)
                    recorded = True
                    await context.abort(code, detail)
                finally:
                    if not recorded:
                        self._record(method, code, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _record(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        if self._metrics is not None:
            self._metrics.handled.labels(method, code.name).inc()
            self._metrics.latency.labels(method).observe(seconds)
        if not method.startswith(_QUIET_PREFIXES):
            _log.info(
                "grpc call", method=method, code=code.name, duration_ms=round(seconds * 1000, 2)
            )


class GrpcServer:
    """Create it with the app, :meth:`start` it in the lifespan (the port is known only
    then when ``port`` is 0), :meth:`stop` it at shutdown."""

    def __init__(
        self,
        services: Sequence[GrpcService],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_concurrent_rpcs: int | None = 256,
        grace_seconds: float = 10.0,
    ) -> None:
        self._services = list(services)
        self._host = host
        self._requested_port = port
        self._max_concurrent_rpcs = max_concurrent_rpcs
        self._grace = grace_seconds
        self._server: grpc.aio.Server | None = None
        self._health: Any = None
        self._probe: grpc.aio.Channel | None = None
        self.port: int | None = None

    async def start(self, metrics_registry: CollectorRegistry | None = None) -> int:
        """Bind, register health and reflection, serve; returns the bound port."""
        metrics = GrpcMetrics(metrics_registry) if metrics_registry is not None else None
        server = grpc.aio.server(
            interceptors=[RequestContextInterceptor(metrics)],
            maximum_concurrent_rpcs=self._max_concurrent_rpcs,
            # grpc enables SO_REUSEPORT by default: a second process on the same port would
            # silently share it instead of failing to start.
            options=[("grpc.so_reuseport", 0)],
        )
        for service in self._services:
            service.register(server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names = [service.name for service in self._services]
        reflection.enable_server_reflection(
            [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        try:
            port = server.add_insecure_port(f"{self._host}:{self._requested_port}")
            await server.start()
        except BaseException:
            await server.stop(None)
            raise
        for name in ["", *names]:
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._server, self.port = server, port
        _log.info("grpc server started", port=port, services=names)
        return port

    async def stop(self) -> None:
        """Report NOT_SERVING, refuse new calls, give calls in flight the grace period."""
        server, self._server = self._server, None
        if self._probe is not None:
            await self._probe.close()
            self._probe = None
        if server is None:
            return
        await self._health.enter_graceful_shutdown()
        await server.stop(self._grace)
        _log.info("grpc server stopped")

    async def check_serving(self) -> None:
        """Raise unless the server answers its own health check (a readiness check)."""
        if self._server is None or self.port is None:
            raise RuntimeError("the gRPC server is not running")
        if self._probe is None:
            wildcard = self._host in ("0.0.0.0", "", "[::]", "::")  # noqa: S104
            loopback = "127.0.0.1" if wildcard else self._host
            self._probe = grpc.aio.insecure_channel(f"{loopback}:{self.port}")
        stub = health_pb2_grpc.HealthStub(self._probe)
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("the gRPC server is not serving")
