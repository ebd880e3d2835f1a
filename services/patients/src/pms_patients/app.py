"""Builds the patients service's app from its settings: the database, the one
:class:`PatientService`, the registration (with its billing client and retry worker),
the failure audit and the outbox relay. The lifespan seeds the demo patients and closes
the billing client; the background workers are the outbox relay and the billing retry
loop."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from starlette.middleware import Middleware

from pms_patients.api import LIST_ROUTE, READER_ROLES, router
from pms_patients.events import OutboxPatientEvents
from pms_patients.failure_audit import FailureAudit
from pms_patients.grpc_client import BillingClient
from pms_patients.list_fast_path import PatientListFastPath
from pms_patients.models import outbox_events
from pms_patients.registration import PatientRegistration
from pms_patients.seed import seed_demo_patients
from pms_patients.service import PatientService
from pms_patients.settings import PatientsSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.security import TokenVerifier
from pms_platform.workers import LoopWorker, outbox_relay_worker


def create_app(settings: PatientsSettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    database = Database.from_settings(settings)
    service = PatientService(OutboxPatientEvents(settings.patient_topic))
    client = BillingClient(settings.billing_grpc_target, settings.billing_deadline_seconds)
    registration = PatientRegistration(
        database,
        service,
        client,
        retry_interval_seconds=settings.billing_retry_interval_seconds,
        max_delay_seconds=settings.billing_retry_max_delay_seconds,
    )
    relay = outbox_relay_worker(settings, database, outbox_events)
    verifier = token_verifier or TokenVerifier.from_settings(settings)
    fast_list = Middleware(
        PatientListFastPath,
        database=database,
        service=service,
        verifier=verifier,
        roles=READER_ROLES,
        route=LIST_ROUTE,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.seeds_demo_patients:
            await seed_demo_patients(registration)
        try:
            yield
        finally:
            await client.close()

    app = create_service_app(
        settings,
        title="PMS patients service",
        description="Patient records, their audit trail and their events.",
        routers=[router],
        database=database,
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
        lifespan=lifespan,
        workers=[relay, LoopWorker(registration.run_until, "patients-billing-retry")],
        token_verifier=verifier,
        middleware=[fast_list],
    )
    app.state.patient_service = service
    app.state.registration = registration
    app.state.failure_audit = FailureAudit(database)
    return app
