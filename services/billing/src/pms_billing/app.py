"""Builds the billing service: the HTTP app, with the gRPC server started and stopped by
its lifespan and, as background workers, the patient-event consumer and the outbox relay
(one process)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from pms_billing.api import router
from pms_billing.events import OutboxBillingEvents
from pms_billing.grpc_server import SERVICE_NAME, BillingServicer
from pms_billing.handlers import patient_event_consumer
from pms_billing.models import outbox_events
from pms_billing.service import BillingService
from pms_billing.settings import BillingSettings
from pms_contracts.billing_service_pb2_grpc import add_BillingServiceServicer_to_server
from pms_platform.db import Database
from pms_platform.grpc_server import GrpcServer, GrpcService
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.security import TokenVerifier
from pms_platform.workers import outbox_relay_worker


def create_app(
    settings: BillingSettings, *, token_verifier: TokenVerifier | None = None
) -> FastAPI:
    """``token_verifier`` replaces the JWKS-backed verifier (tests mint their own tokens)."""
    database = Database.from_settings(settings)
    service = BillingService(OutboxBillingEvents(settings.billing_topic))
    servicer = BillingServicer(database, service)
    grpc_server = GrpcServer(
        [GrpcService(SERVICE_NAME, partial(add_BillingServiceServicer_to_server, servicer))],
        host=settings.grpc_host,
        port=settings.grpc_port,
        max_concurrent_rpcs=settings.grpc_max_concurrent_rpcs,
        grace_seconds=settings.shutdown_grace_seconds,
    )
    relay = outbox_relay_worker(settings, database, outbox_events)
    registry = CollectorRegistry()
    consumer = patient_event_consumer(settings, database, service, metrics_registry=registry)

    # The gRPC server is no background worker: it is a transport, like HTTP, serving
    # whatever ``background_workers`` says (patients needs it to register patients), and
    # it needs the app's registry and publishes its port on ``app.state``. So the
    # lifespan starts it before the workers and stops it after them: calls still in
    # flight then finish and commit, and their events wait in the outbox for the next
    # relay (of this instance's next start or of another instance), never lost.
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.grpc_port = await grpc_server.start(app.state.metrics_registry)
        try:
            yield
        finally:
            await grpc_server.stop()

    app = create_service_app(
        settings,
        title="PMS billing service",
        description="Billing accounts and invoices, over gRPC (port 9001) and REST.",
        routers=[router],
        database=database,
        readiness={
            "kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers),
            "grpc": grpc_server.check_serving,
        },
        lifespan=lifespan,
        workers=[relay, consumer],
        token_verifier=token_verifier or TokenVerifier.from_settings(settings),
        metrics_registry=registry,
    )
    app.state.billing_service = service
    app.state.outbox_relay = relay
    return app
