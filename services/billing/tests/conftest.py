"""A running billing service for each test: its own migrated database, the gRPC server
on a free port, the HTTP app in-process, and tokens from the test minter."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from pms_billing.app import create_app
from pms_billing.models import MIGRATIONS_DIR, Account, outbox_events
from pms_billing.settings import BillingSettings
from pms_contracts.billing_service_pb2_grpc import BillingServiceStub
from pms_platform.db import Database
from pms_platform.security import Role
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.tokens import TokenMinter

if TYPE_CHECKING:  # the async stub type exists in the stubs only
    from pms_contracts.billing_service_pb2_grpc import BillingServiceAsyncStub


@dataclass
class Billing:
    """One running billing service and handles on it."""

    settings: BillingSettings
    app: FastAPI
    http: httpx.AsyncClient
    channel: grpc.aio.Channel
    stub: "BillingServiceAsyncStub"
    database: Database  # for the tests' own reads and locks
    minter: TokenMinter

    def auth(self, role: Role | None = Role.ADMIN) -> dict[str, str]:
        return self.minter.authorization(role)

    async def account_count(self) -> int:
        async with self.database.transaction() as session:
            return int(
                (await session.execute(select(func.count()).select_from(Account))).scalar_one()
            )

    async def outbox_types(self) -> list[str]:
        """The event types written to the outbox, in order."""
        async with self.database.transaction() as session:
            rows = await session.execute(
                select(outbox_events.c.headers).order_by(outbox_events.c.id)
            )
            return [headers["event_type"] for (headers,) in rows]


BillingFactory = Callable[..., AbstractAsyncContextManager[Billing]]


@pytest.fixture
def billing_factory(
    database_factory: DatabaseFactory, token_minter: TokenMinter, kafka_bootstrap_servers: str
) -> BillingFactory:
    """Start a billing service with settings overridden by keyword arguments (no consumer
    and no relay unless ``background_workers=True``)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Billing]:
        values: dict[str, Any] = {
            "database_url": await database_factory(MIGRATIONS_DIR),
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "grpc_port": 0,
            "background_workers": False,
            "environment": "test",
            **overrides,
        }
        settings = BillingSettings(**values)
        app = create_app(settings, token_verifier=token_minter.verifier())
        database = Database(settings.database_url)
        try:
            async with (
                app_client(app) as http,
                grpc.aio.insecure_channel(f"127.0.0.1:{app.state.grpc_port}") as channel,
            ):
                stub = BillingServiceStub(channel)
                yield Billing(settings, app, http, channel, stub, database, token_minter)
        finally:
            await database.dispose()

    return start


@pytest.fixture
async def billing(billing_factory: BillingFactory) -> AsyncIterator[Billing]:
    async with billing_factory() as running:
        yield running
