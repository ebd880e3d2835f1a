"""Builds the analytics service: the report API, with the event consumer as its
background worker (one process)."""

from functools import partial

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from pms_analytics.api import router
from pms_analytics.handlers import analytics_consumer
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable
from pms_platform.security import TokenVerifier


def create_app(settings: AnalyticsSettings, token_verifier: TokenVerifier | None = None) -> FastAPI:
    """``token_verifier`` replaces the JWKS-backed verifier (tests mint their own tokens)."""
    database = Database.from_settings(settings)
    service = AnalyticsService()
    registry = CollectorRegistry()
    consumer = analytics_consumer(database, settings, service=service, metrics_registry=registry)
    app = create_service_app(
        settings,
        title="PMS analytics service",
        description="Aggregates built from the platform's events, and reports.",
        routers=[router],
        database=database,
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
        workers=[consumer],
        token_verifier=token_verifier or TokenVerifier.from_settings(settings),
        metrics_registry=registry,
    )
    app.state.analytics_service = service
    app.state.consumer = consumer
    return app
