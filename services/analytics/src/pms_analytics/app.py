"""Builds the analytics service: the report API, with the event consumer started and
stopped by its lifespan (one process)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from pms_analytics.api import router
from pms_analytics.consumer import AnalyticsConsumer, ConsumerMetrics
from pms_analytics.settings import AnalyticsSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.security import TokenVerifier


def create_app(settings: AnalyticsSettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """``token_verifier`` replaces the JWKS-backed verifier (tests mint their own tokens)."""
    database = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer: AnalyticsConsumer = app.state.consumer
        if settings.background_workers:
            await consumer.start()
        try:
            yield
        finally:
            if settings.background_workers:
                # Finishes the events in hand and commits their offsets.
                await consumer.stop(settings.shutdown_grace_seconds)

    app = create_service_app(
        settings,
        title="PMS analytics service",
        description="Aggregates built from the platform's events, and reports.",
        routers=[router],
        database=database,
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
        lifespan=lifespan,
        token_verifier=token_verifier or TokenVerifier.from_settings(settings),
    )
    metrics = ConsumerMetrics(app.state.metrics_registry)
    app.state.consumer_metrics = metrics
    app.state.consumer = AnalyticsConsumer(database, settings, metrics)
    return app
