from collections.abc import AsyncIterator

import httpx
import pytest

from pms_analytics.app import create_app
from pms_analytics.models import MIGRATIONS_DIR
from pms_analytics.settings import AnalyticsSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.service_checks import (
    assert_not_ready_without_the_broker,
    assert_ready,
    assert_serves_health_metrics_and_openapi,
)


@pytest.fixture
async def unmigrated_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with its default settings and no database behind it."""
    async with app_client(create_app(AnalyticsSettings(background_workers=False))) as client:
        yield client


async def test_analytics_is_live_and_serves_metrics_and_openapi(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    await assert_serves_health_metrics_and_openapi(unmigrated_client, "PMS analytics service")


def test_analytics_defaults_to_its_own_port_database_topics_and_group() -> None:
    settings = AnalyticsSettings()
    assert settings.http_port == 4002
    assert settings.database_url.endswith("/pms_analytics")
    assert settings.topics == ["patient", "billing"]
    assert settings.dead_letter_topics == {"patient": "patient.DLT", "billing": "billing.DLT"}
    assert settings.consumer_group == "analytics-service"


@pytest.mark.integration
async def test_analytics_is_ready_on_its_migrated_database_and_the_broker(
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_ANALYTICS_DATABASE_URL", await database_factory(MIGRATIONS_DIR))
    monkeypatch.setenv("PMS_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap_servers)
    async with app_client(create_app(AnalyticsSettings(background_workers=False))) as client:
        await assert_ready(client, {"database": "UP", "kafka": "UP"})


async def test_analytics_is_not_ready_when_the_broker_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    async with app_client(create_app(AnalyticsSettings(background_workers=False))) as client:
        await assert_not_ready_without_the_broker(client)
