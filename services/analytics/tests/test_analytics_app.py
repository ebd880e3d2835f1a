from collections.abc import AsyncIterator

import httpx
import pytest

from pms_analytics.app import create_app
from pms_analytics.models import MIGRATIONS_DIR
from pms_analytics.settings import AnalyticsSettings
from pms_platform.testing import DatabaseFactory, app_client


@pytest.fixture
async def unmigrated_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with its default settings and no database behind it."""
    async with app_client(create_app(AnalyticsSettings(background_workers=False))) as client:
        yield client


async def test_analytics_is_live_and_serves_metrics_and_openapi(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    assert (await unmigrated_client.get("/health/live")).json() == {"status": "UP"}
    assert "http_requests_total" in (await unmigrated_client.get("/metrics")).text
    document = (await unmigrated_client.get("/openapi.json")).json()
    assert document["info"]["title"] == "PMS analytics service"


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
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "UP", "kafka": "UP"}


async def test_analytics_is_not_ready_when_the_broker_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    async with app_client(create_app(AnalyticsSettings(background_workers=False))) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["kafka"].startswith("DOWN")
