"""Builds the billing service's app from its settings."""

from functools import partial

from fastapi import FastAPI

from pms_billing.settings import BillingSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.kafka import check_kafka_reachable


def create_app(settings: BillingSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="PMS billing service",
        description="Billing accounts and invoices, over gRPC and REST.",
        database=Database.from_settings(settings),
        readiness={"kafka": partial(check_kafka_reachable, settings.kafka_bootstrap_servers)},
    )
