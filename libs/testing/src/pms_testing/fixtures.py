"""The pytest fixtures for integration tests against the real PostgreSQL and Kafka.

The servers come from ``PMS_POSTGRES_URL`` and ``PMS_KAFKA_BOOTSTRAP_SERVERS``, which
``pms infra run -- pytest ...`` (what ``make test`` does) sets. Each test gets its own
freshly migrated database and its own topics, dropped afterwards, so tests never see
each other's rows or events. Loaded as a plugin by the root ``conftest.py``.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pms_testing.databases import DatabaseFactory, create_database, drop_databases
from pms_testing.kafka import TopicFactory, private_topics
from pms_testing.tokens import TokenMinter


def _required_environment(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run integration tests through `uv run pms infra run -- pytest`"
            " (or `make test`), which starts PostgreSQL and Kafka and sets it"
        )
    return value


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The admin URL of the PostgreSQL server under test."""
    return _required_environment("PMS_POSTGRES_URL")


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> str:
    return _required_environment("PMS_KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture
async def database_factory(postgres_url: str) -> AsyncIterator[DatabaseFactory]:
    """Create empty databases, migrated with the given service's migrations (or not).

    Returns the SQLAlchemy asyncpg URL; every database is dropped after the test.
    """
    created: list[str] = []

    async def create(migrations_dir: Path | None = None) -> str:
        url = await create_database(postgres_url, migrations_dir)
        created.append(url)
        return url

    yield create
    await drop_databases(postgres_url, created)


@pytest.fixture
async def kafka_topic_factory(kafka_bootstrap_servers: str) -> AsyncIterator[TopicFactory]:
    """Create private topics (``partitions`` each, default 1), deleted after the test."""
    async with private_topics(kafka_bootstrap_servers) as create:
        yield create


@pytest.fixture
def token_minter() -> TokenMinter:
    return TokenMinter()
