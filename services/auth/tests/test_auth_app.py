from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pms_auth.app import create_app
from pms_auth.models import MIGRATIONS_DIR
from pms_auth.settings import AuthSettings
from pms_platform.testing import DatabaseFactory, app_client


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
    assert (await unmigrated_client.get("/health/live")).json() == {"status": "UP"}
    assert "http_requests_total" in (await unmigrated_client.get("/metrics")).text
    document = (await unmigrated_client.get("/openapi.json")).json()
    assert document["info"]["title"] == "PMS auth service"


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
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "UP"}
