"""Fixtures of the auth tests: the app on a fresh database, with its own signing key,
cheap argon2 parameters (the defaults are checked separately) and helpers to log in."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pms_auth.app import create_app
from pms_auth.keys import private_key_pem
from pms_auth.models import MIGRATIONS_DIR
from pms_auth.settings import (
    DEMO_ANALYST_EMAIL,
    DEMO_CLINICIAN_EMAIL,
    DEVELOPMENT_PASSWORD,
    ORIGINAL_ADMIN_EMAIL,
    AuthSettings,
)
from pms_platform.security import Role
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.tokens import bearer

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Login = Callable[..., Awaitable[dict[str, Any]]]
AuthHeaders = Callable[[httpx.AsyncClient, Role], Awaitable[dict[str, str]]]


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
async def auth_env(
    database_factory: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
    signing_key: Ed25519PrivateKey,
    tmp_path: Path,
) -> pytest.MonkeyPatch:
    """Environment of an auth service on a fresh migrated database."""
    monkeypatch.setenv("PMS_AUTH_DATABASE_URL", await database_factory(MIGRATIONS_DIR))
    monkeypatch.setenv("PMS_AUTH_SIGNING_KEY", private_key_pem(signing_key).decode())
    monkeypatch.setenv("PMS_AUTH_DEVELOPMENT_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PMS_AUTH_ARGON2_MEMORY_COST_KIB", "1024")
    monkeypatch.setenv("PMS_AUTH_ARGON2_TIME_COST", "1")
    return monkeypatch


@pytest.fixture
def auth_client_factory(auth_env: pytest.MonkeyPatch) -> ClientFactory:
    """``async with auth_client_factory(LOCKOUT_BASE_SECONDS="1") as client``: the app
    with extra ``PMS_AUTH_*`` settings, started (so its users are seeded)."""

    def build(**settings: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        for name, value in settings.items():
            auth_env.setenv(f"PMS_AUTH_{name}", value)
        return app_client(create_app(AuthSettings()))

    return build


@pytest.fixture
async def auth_client(auth_client_factory: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with auth_client_factory() as client:
        yield client


SEEDED_EMAILS = {
    Role.ADMIN: ORIGINAL_ADMIN_EMAIL,
    Role.CLINICIAN: DEMO_CLINICIAN_EMAIL,
    Role.ANALYST: DEMO_ANALYST_EMAIL,
}


async def _login(
    client: httpx.AsyncClient, email: str, password: str = DEVELOPMENT_PASSWORD
) -> dict[str, Any]:
    response = await client.post("/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def login() -> Login:
    """``await login(client, email, password)``: the token pair body of a login that must
    work (``password`` defaults to the seeded users' development password)."""
    return _login


@pytest.fixture
def auth_headers() -> AuthHeaders:
    """``await auth_headers(client, Role.CLINICIAN)``: the Authorization header of the
    seeded user with that role."""

    async def headers(client: httpx.AsyncClient, role: Role) -> dict[str, str]:
        tokens = await _login(client, SEEDED_EMAILS[role])
        return bearer(tokens["accessToken"])

    return headers
