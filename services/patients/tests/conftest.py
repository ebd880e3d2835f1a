"""Fixtures for the patients service's integration tests: its app on a fresh database
and a private topic, and the real billing service running as its own process."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pms_patients.app import create_app
from pms_patients.models import MIGRATIONS_DIR
from pms_patients.settings import PatientsSettings
from pms_platform.security import Role
from pms_testing.databases import DatabaseFactory, create_database, drop_databases
from pms_testing.http import app_client
from pms_testing.kafka import TopicFactory
from pms_testing.processes import ServiceProcess, free_port
from pms_testing.tokens import TokenMinter

BILLING_MIGRATIONS = Path(__file__).resolve().parents[2] / "billing" / "migrations"


class BillingProcess(ServiceProcess):
    """The billing service with its own database and ports."""

    def __init__(self, database_url: str, kafka_bootstrap_servers: str) -> None:
        self.grpc_port = free_port()
        http_port = free_port()
        super().__init__(
            "pms_billing",
            http_port,
            {
                "PMS_BILLING_DATABASE_URL": database_url,
                "PMS_BILLING_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
                "PMS_BILLING_HTTP_PORT": str(http_port),
                "PMS_BILLING_GRPC_PORT": str(self.grpc_port),
                # Only its gRPC side matters here: no consumer, no relay.
                "PMS_BILLING_BACKGROUND_WORKERS": "false",
            },
        )

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@pytest.fixture(scope="session")
async def billing_database(postgres_url: str) -> AsyncIterator[str]:
    url = await create_database(postgres_url, BILLING_MIGRATIONS)
    yield url
    await drop_databases(postgres_url, [url])


@pytest.fixture(scope="session")
async def billing(
    billing_database: str, kafka_bootstrap_servers: str
) -> AsyncIterator[BillingProcess]:
    process = BillingProcess(billing_database, kafka_bootstrap_servers)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def patient_topic(kafka_topic_factory: TopicFactory) -> str:
    return await kafka_topic_factory(partitions=3)


@pytest.fixture
async def patients_settings(
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    patient_topic: str,
    billing: BillingProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> PatientsSettings:
    for name, value in {
        "DATABASE_URL": await database_factory(MIGRATIONS_DIR),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "PATIENT_TOPIC": patient_topic,
        "BILLING_GRPC_TARGET": billing.target,
        "BILLING_RETRY_INTERVAL_SECONDS": "0.2",
        "BILLING_RETRY_MAX_DELAY_SECONDS": "0.5",
        "OUTBOX_POLL_INTERVAL_SECONDS": "0.2",
        "SEED_DEMO_PATIENTS": "false",
    }.items():
        monkeypatch.setenv(f"PMS_PATIENTS_{name}", value)
    return PatientsSettings()


@pytest.fixture
def patients_app(patients_settings: PatientsSettings, token_minter: TokenMinter) -> FastAPI:
    return create_app(patients_settings, token_verifier=token_minter.verifier())


@pytest.fixture
async def client(patients_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(patients_app) as client:
        yield client


@pytest.fixture
def as_role(token_minter: TokenMinter) -> dict[Role, dict[str, str]]:
    """``Authorization`` headers per role, one user each."""
    return {
        role: token_minter.authorization(role, email=f"{role.lower()}@test.com") for role in Role
    }
