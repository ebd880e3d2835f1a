from collections.abc import AsyncIterator

import httpx
import pytest

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR
from pms_billing.settings import BillingSettings
from pms_platform.testing import DatabaseFactory, app_client


@pytest.fixture(autouse=True)
def _private_ports_and_no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A free gRPC port, and no consumer on the shared `patient` topic."""
    monkeypatch.setenv("PMS_BILLING_GRPC_PORT", "0")
    monkeypatch.setenv("PMS_BILLING_BACKGROUND_WORKERS", "false")


@pytest.fixture
async def unmigrated_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with its default settings and no database behind it."""
    async with app_client(create_app(BillingSettings())) as client:
        yield client


async def test_billing_is_live_and_serves_metrics_and_openapi(
    unmigrated_client: httpx.AsyncClient,
) -> None:
    assert (await unmigrated_client.get("/health/live")).json() == {"status": "UP"}
    metrics = (await unmigrated_client.get("/metrics")).text
    assert "http_requests_total" in metrics
    assert "grpc_server_handled_total" in metrics
    document = (await unmigrated_client.get("/openapi.json")).json()
    assert document["info"]["title"] == "PMS billing service"


def test_billing_defaults_to_its_own_ports_topics_and_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PMS_BILLING_GRPC_PORT")
    monkeypatch.delenv("PMS_BILLING_BACKGROUND_WORKERS")
    settings = BillingSettings()
    assert (settings.http_port, settings.grpc_port) == (4001, 9001)
    assert settings.database_url.endswith("/pms_billing")
    assert (settings.patient_topic, settings.patient_dead_letter_topic) == (
        "patient",
        "patient.DLT",
    )
    assert (settings.billing_topic, settings.consumer_group) == ("billing", "billing-service")
    assert settings.background_workers


@pytest.mark.integration
async def test_billing_is_ready_on_its_migrated_database_the_broker_and_grpc(
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_BILLING_DATABASE_URL", await database_factory(MIGRATIONS_DIR))
    monkeypatch.setenv("PMS_BILLING_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap_servers)
    async with app_client(create_app(BillingSettings())) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "UP", "kafka": "UP", "grpc": "UP"}


async def test_billing_is_not_ready_when_the_broker_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_BILLING_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    async with app_client(create_app(BillingSettings())) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["kafka"].startswith("DOWN")
