"""pytest fixtures for integration tests against the real PostgreSQL and Kafka.

The servers come from ``PMS_POSTGRES_URL`` and ``PMS_KAFKA_BOOTSTRAP_SERVERS``, which
``pms infra run -- pytest ...`` (what ``make test`` does) sets. Each test gets its own
freshly migrated database and its own topics, dropped afterwards, so tests never see
each other's rows or events. Loaded by the root ``conftest.py``.
"""

import json
import os
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from pms_platform.db import database_url_for
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


@pytest.fixture
async def database_factory(postgres_url: str) -> AsyncIterator[DatabaseFactory]:
    """Create empty databases, migrated with the given service's migrations (or not).

    Returns the SQLAlchemy asyncpg URL; every database is dropped after the test.
    """
    admin_dsn = database_url_for(postgres_url, "postgres", driver="postgresql")
    created: list[str] = []

    async def create(migrations_dir: Path | None = None) -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        url = database_url_for(postgres_url, name)
        if migrations_dir is not None:
            await upgrade_to_head(migrations_dir, url)
        return url

    yield create
    connection = await asyncpg.connect(admin_dsn)
    try:
        for name in created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


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
