from collections.abc import AsyncIterator

import httpx
import pytest

from pms_patients.app import create_app
from pms_patients.models import MIGRATIONS_DIR
from pms_patients.settings import PatientsSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.service_checks import (
    assert_not_ready_without_the_broker,
    assert_ready,
    assert_serves_health_metrics_and_openapi,
)


@pytest.fixture(autouse=True)
def no_database_and_no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests here must not reach the development database that may be running."""
    monkeypatch.setenv("PMS_PATIENTS_DATABASE_URL", "postgresql+asyncpg://x:y@127.0.0.1:1/none")
    monkeypatch.setenv("PMS_PATIENTS_SEED_DEMO_PATIENTS", "false")
    monkeypatch.setenv("PMS_PATIENTS_BACKGROUND_WORKERS", "false")


@pytest.fixture
async def unmigrated_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with no database behind it."""
    async with app_client(create_app(PatientsSettings())) as client:
        yield client


async def test_patients_is_live_and_serves_metrics_and_openapi(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    await assert_serves_health_metrics_and_openapi(unmigrated_client, "PMS patients service")


def test_patients_defaults_to_its_own_port_and_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMS_PATIENTS_DATABASE_URL")
    settings = PatientsSettings()
    assert settings.http_port == 4000
    assert settings.database_url.endswith("/pms_patients")


@pytest.mark.integration
async def test_patients_is_ready_on_its_migrated_database_and_the_broker(
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_PATIENTS_DATABASE_URL", await database_factory(MIGRATIONS_DIR))
    monkeypatch.setenv("PMS_PATIENTS_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap_servers)
    async with app_client(create_app(PatientsSettings())) as client:
        await assert_ready(client, {"database": "UP", "kafka": "UP"})


async def test_patients_is_not_ready_when_the_broker_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_PATIENTS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    async with app_client(create_app(PatientsSettings())) as client:
        await assert_not_ready_without_the_broker(client)
