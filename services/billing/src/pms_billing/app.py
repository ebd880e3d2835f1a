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
from pms_billing.handlers import PatientEventHandler
from pms_billing.models import outbox_events, processed_events
from pms_billing.service import BillingService
from pms_billing.settings import BillingSettings
from pms_contracts.billing_service_pb2_grpc import add_BillingServiceServicer_to_server
from pms_platform.db import Database
from pms_platform.grpc_server import GrpcServer, GrpcService
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.outbox_relay import OutboxRelay
from pms_platform.security import TokenVerifier
from pms_platform.workers import consumer_worker


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
    relay = OutboxRelay(
        database,
        outbox_events,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.kafka_client_id,
        poll_interval_seconds=settings.outbox_poll_interval_seconds,
    )
    registry = CollectorRegistry()
    consumer = consumer_worker(
        settings,
        database,
        processed_events,
        PatientEventHandler(service),
        topics=[settings.patient_topic],
        group_id=settings.consumer_group,
        dead_letter_topics={settings.patient_topic: settings.patient_dead_letter_topic},
        metrics_registry=registry,
        metrics_prefix="billing",
    )

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
