"""Builds the auth service's app from its settings: the database, the keys, the
password hasher and token signer, and, once each, the ``UserService`` (domain) and the
``Authentication`` flows (login, refresh, logout), stored on ``app.state``."""

from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from fastapi import FastAPI

from pms_auth.api import router, users_router
from pms_auth.authentication import Authentication
from pms_auth.keys import load_key_set
from pms_auth.lockout import Lockout, LockoutPolicy
from pms_auth.passwords import PasswordHasher
from pms_auth.seed import seed_users_of, seeding
from pms_auth.service import UserService
from pms_auth.settings import AuthSettings
from pms_auth.tokens import AccessTokenSigner
from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.security import StaticJwksSource, TokenVerifier


def create_app(settings: AuthSettings) -> FastAPI:
    database = Database.from_settings(settings)
    key_set = load_key_set(settings)
    passwords = PasswordHasher.from_settings(settings)
    signer = AccessTokenSigner(
        key_set,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )
    # Auth checks its own tokens from its own keys: no HTTP call to itself.
    verifier = TokenVerifier(
        StaticJwksSource(key_set.jwks),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        max_lifetime_seconds=settings.access_token_ttl_seconds,
    )

    def seed_on_start(_app: FastAPI) -> AbstractAsyncContextManager[None]:
        return seeding(database, passwords, seed_users_of(settings))

    app = create_service_app(
        settings,
        title="PMS auth service",
        description="Users, roles, passwords, access and refresh tokens, and the JWKS.",
        routers=[router, users_router],
        database=database,
        token_verifier=verifier,
        lifespan=seed_on_start,
    )
    app.state.key_set = key_set
    app.state.authentication = Authentication(
        database,
        passwords,
        signer,
        Lockout(LockoutPolicy.from_settings(settings)),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    app.state.user_service = UserService(passwords)
    return app
