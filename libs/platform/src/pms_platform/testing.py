"""pytest fixtures for integration tests against the real PostgreSQL and Kafka.

The servers come from ``PMS_POSTGRES_URL`` and ``PMS_KAFKA_BOOTSTRAP_SERVERS``, which
``pms infra run -- pytest ...`` (what ``make test`` does) sets. Each test gets its own
freshly migrated database and its own topics, dropped afterwards, so tests never see
each other's rows or events. Loaded by the root ``conftest.py``.
"""

import asyncio
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import Connection, MetaData

from pms_platform.db import Database, database_url_for
from pms_platform.migrations import upgrade_to_head
from pms_platform.security import (
    TOKEN_ALGORITHM,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    Role,
    StaticJwksSource,
    TokenVerifier,
)

DatabaseFactory = Callable[[Path | None], Awaitable[str]]
TopicFactory = Callable[..., Awaitable[str]]


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in-process, with its start-up and shutdown run
    (so pools are opened and closed as in production). Errors become 500 answers."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


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


async def create_database(postgres_url: str, migrations_dir: Path | None = None) -> str:
    """A new empty database (migrated when ``migrations_dir`` is given); its asyncpg URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(database_url_for(postgres_url, "postgres", "postgresql"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = database_url_for(postgres_url, name)
    if migrations_dir is not None:
        await upgrade_to_head(migrations_dir, url)
    return url


async def drop_databases(postgres_url: str, urls: list[str]) -> None:
    connection = await asyncpg.connect(database_url_for(postgres_url, "postgres", "postgresql"))
    try:
        for url in urls:
            name = url.rsplit("/", 1)[-1]
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


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
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    created: list[str] = []

    async def create(partitions: int = 1) -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
        )
        created.append(name)
        return name

    try:
        yield create
        if created:
            await admin.delete_topics(created)
    finally:
        await admin.close()


class TokenMinter:
    """Signs real access tokens with its own Ed25519 key, the way auth does, so services
    can test their access rules without running auth. ``claims`` override or add claims
    (``None`` removes one); ``headers`` override the JWT header."""

    def __init__(self, issuer: str = TOKEN_ISSUER, audience: str = TOKEN_AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.private_key = Ed25519PrivateKey.generate()
        self.kid = f"test-{uuid.uuid4().hex[:12]}"
        public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        public_jwk.update(kid=self.kid, use="sig", alg=TOKEN_ALGORITHM)
        self.jwks: dict[str, list[dict[str, str]]] = {"keys": [public_jwk]}

    def mint(
        self,
        role: Role | str | None = Role.ADMIN,
        *,
        user_id: str | None = None,
        email: str = "someone@test.com",
        expires_in: timedelta = timedelta(minutes=15),
        headers: dict[str, str] | None = None,
        **claims: object,
    ) -> str:
        now = int(time.time())
        payload: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id or str(uuid.uuid4()),
            "email": email,
            "role": str(role),
            "iat": now,
            "exp": now + int(expires_in.total_seconds()),
            "jti": uuid.uuid4().hex,
        }
        if role is None:
            del payload["role"]
        for name, value in claims.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return jwt.encode(
            payload,
            self.private_key,
            algorithm=TOKEN_ALGORITHM,
            headers={"kid": self.kid, **(headers or {})},
        )

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(
            StaticJwksSource(self.jwks), issuer=self.issuer, audience=self.audience
        )


@pytest.fixture
def token_minter() -> TokenMinter:
    return TokenMinter()


def free_port() -> int:
    """A TCP port that nothing listens on right now (for servers started by a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServiceProcess:
    """A service run the way users run it (``python -m pms_<name> serve``) as a child
    process, which a test can stop and start again to play an outage."""

    def __init__(self, module: str, http_port: int, env: dict[str, str]) -> None:
        self.module = module
        self.http_port = http_port
        self.env = {**os.environ, **env}
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, ready_path: str = "/health/live") -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            "serve",
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{self.http_port}{ready_path}"
        async with httpx.AsyncClient(timeout=1.0) as client, asyncio.timeout(30):
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.module} exited with {self.process.returncode}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """SIGTERM, as an orchestrator would, and wait for the graceful exit."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None


async def migration_differences(
    database_url: str, metadata: MetaData, *, compare_server_default: bool = True
) -> list[object]:
    """What Alembic's autogenerate finds between a migrated database and ``metadata``:
    empty when the hand-written migrations build exactly the models' tables."""

    def compare(connection: Connection) -> list[object]:
        options = {"compare_type": True, "compare_server_default": compare_server_default}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))

    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await database.dispose()
