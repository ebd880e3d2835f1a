"""Builds the auth service's app from its settings."""

from fastapi import FastAPI

from pms_auth.settings import AuthSettings
from pms_platform.db import Database
from pms_platform.http_app import create_service_app


def create_app(settings: AuthSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="PMS auth service",
        description="Users, roles, passwords, access and refresh tokens, and the JWKS.",
        database=Database.from_settings(settings),
    )
