"""Builds the patients service's app from its settings."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from pms_patients.api import router
from pms_patients.billing_enrolment import BillingEnrolment
from pms_patients.grpc_client import BillingClient
from pms_patients.models import outbox_events
from pms_patients.seed import seed_demo_patients
from pms_patients.settings import PatientsSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.outbox import OutboxRelay
from pms_platform.security import TokenVerifier


def create_app(settings: PatientsSettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    database = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = BillingClient(settings.billing_grpc_target, settings.billing_deadline_seconds)
        enrolment = BillingEnrolment(
            database,
            client,
            retry_interval_seconds=settings.billing_retry_interval_seconds,
            max_delay_seconds=settings.billing_retry_max_delay_seconds,
        )
        app.state.billing_enrolment = enrolment
        relay = OutboxRelay(
            database,
            outbox_events,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=settings.kafka_client_id,
            poll_interval_seconds=settings.outbox_poll_interval_seconds,
        )
        stop = asyncio.Event()
        workers: list[asyncio.Task[None]] = []
        if settings.seeds_demo_patients:
            await seed_demo_patients(database, settings.patient_topic)
        if settings.background_workers:
            await relay.start()
            workers.append(asyncio.create_task(enrolment.run_until(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*workers)
            if settings.background_workers:
                await relay.stop()
            await client.close()

    return create_service_app(
        settings,
        title="PMS patients service",
        description="Patient records, their audit trail and their events.",
        routers=[router],
        database=database,
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
        lifespan=lifespan,
        token_verifier=token_verifier or TokenVerifier.from_settings(settings),
    )
