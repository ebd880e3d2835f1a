"""Builds the gateway's app from its settings."""

from fastapi import FastAPI

from pms_gateway.settings import GatewaySettings
from pms_platform.http_app import create_service_app


def create_app(settings: GatewaySettings) -> FastAPI:
    return create_service_app(
        settings,
        title="PMS API gateway",
        description="The single entry point: routing, token checks, limits and one docs page.",
    )
