"""Builds the billing service's app from its settings."""

from fastapi import FastAPI

from pms_billing.settings import BillingSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app


def create_app(settings: BillingSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="PMS billing service",
        description="Billing accounts and invoices, over gRPC and REST.",
        database=Database.from_settings(settings),
    )
