from collections.abc import AsyncIterator

import httpx
import pytest

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR
from pms_billing.settings import BillingSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.service_checks import (
    assert_not_ready_without_the_broker,
    assert_ready,
    assert_serves_health_metrics_and_openapi,
)


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
    await assert_serves_health_metrics_and_openapi(
        unmigrated_client, "PMS billing service", metrics=("grpc_server_handled_total",)
    )


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
        await assert_ready(client, {"database": "UP", "kafka": "UP", "grpc": "UP"})


async def test_billing_is_not_ready_when_the_broker_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PMS_BILLING_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    async with app_client(create_app(BillingSettings())) as client:
        await assert_not_ready_without_the_broker(client)
