"""Builds the analytics service's app from its settings."""

from functools import partial

from fastapi import FastAPI

from pms_analytics.settings import AnalyticsSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable


def create_app(settings: AnalyticsSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="PMS analytics service",
        description="Aggregates built from the platform's events, and reports.",
        database=Database.from_settings(settings),
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
    )
