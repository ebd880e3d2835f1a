from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pms_auth.app import create_app
from pms_auth.models import MIGRATIONS_DIR
from pms_auth.settings import AuthSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.service_checks import assert_ready, assert_serves_health_metrics_and_openapi


@pytest.fixture
async def unmigrated_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no database behind it (and its development key in a scratch folder)."""
    monkeypatch.setenv("PMS_AUTH_DATABASE_URL", "postgresql+asyncpg://pms:pms@127.0.0.1:1/none")
    monkeypatch.setenv("PMS_AUTH_DEVELOPMENT_KEY_DIR", str(tmp_path))
    async with app_client(create_app(AuthSettings())) as client:
        yield client


async def test_auth_is_live_and_serves_metrics_and_openapi(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    await assert_serves_health_metrics_and_openapi(unmigrated_client, "PMS auth service")


def test_auth_defaults_to_its_own_port_and_database() -> None:
    settings = AuthSettings()
    assert settings.http_port == 4005
    assert settings.database_url.endswith("/pms_auth")


@pytest.mark.integration
async def test_auth_is_ready_on_its_migrated_database(
    database_factory: DatabaseFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PMS_AUTH_DATABASE_URL", await database_factory(MIGRATIONS_DIR))
    monkeypatch.setenv("PMS_AUTH_DEVELOPMENT_KEY_DIR", str(tmp_path))
    async with app_client(create_app(AuthSettings())) as client:
        await assert_ready(client, {"database": "UP"})
