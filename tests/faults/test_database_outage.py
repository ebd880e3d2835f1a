"""PostgreSQL stopped and started again under create load, behind the real gateway.

The patients service and the gateway run under uvicorn on real sockets, the patients
service on a PostgreSQL cluster of the test's own (``private_postgres``) and the real
Kafka broker; billing is unreachable (its step is left to the retry worker). While the
database is down every create must be answered 503 problem+json with its request id and
a ``Retry-After`` (never 500, never the gateway's 502 for a dropped connection), the
service's connections stay open, readiness says DOWN; when it is back, creates succeed
again without a restart. Afterwards the database holds exactly the patients that were
answered 201: none missing, none saved behind an error.

A test that stops PostgreSQL must not stop the one every other test uses, so
``private_postgres`` is a cluster of its own, made and started by the launcher's code
(the same as ``pms infra up``) in the test's scratch folder, on a free port.
"""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
import pytest

from pms_auth.app import create_app as create_auth
from pms_auth.models import MIGRATIONS_DIR as AUTH_MIGRATIONS
from pms_auth.settings import ORIGINAL_ADMIN_EMAIL, AuthSettings
from pms_billing.app import create_app as create_billing
from pms_billing.models import MIGRATIONS_DIR as BILLING_MIGRATIONS
from pms_billing.settings import BillingSettings
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.postgres import start_local_postgres, stop_local_postgres
from pms_cli.infra.postgres_setup import wait_for_postgres
from pms_cli.infra.urls import local_postgres_url
from pms_contracts.billing_service_pb2 import BillingRequest
from pms_contracts.billing_service_pb2_grpc import BillingServiceStub
from pms_gateway.app import create_app as create_gateway
from pms_gateway.settings import GatewaySettings
from pms_patients.app import create_app as create_patients
from pms_patients.models import MIGRATIONS_DIR
from pms_patients.settings import PatientsSettings
from pms_platform.db import asyncpg_url
from pms_platform.security import Role
from pms_testing.databases import create_database
from pms_testing.kafka import TopicFactory
from pms_testing.patients import patient_body
from pms_testing.processes import free_port, reserve_port
from pms_testing.servers import serve_asgi
from pms_testing.tokens import TokenMinter

WRITERS = 6


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster that only this test uses: stop it, start it again."""

    paths: InfraPaths
    port: int

    @property
    def url(self) -> str:
        return local_postgres_url(self.port)

    async def start(self) -> None:
        await start_local_postgres(
            self.paths, port=self.port, configured_bin_dir=None, on_launch=lambda: None
        )
        await wait_for_postgres(self.url, max_wait=30, still_running=lambda: True)

    async def stop(self) -> None:
        """A fast shutdown, as an operator's restart or a failover does: sessions are
        ended, transactions in flight rolled back."""
        await stop_local_postgres(self.paths)


@pytest.fixture
async def private_postgres(tmp_path: Path) -> AsyncIterator[PrivatePostgres]:
    cluster = PrivatePostgres(InfraPaths(tmp_path / "state"), free_port())
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@dataclass
class Answers:
    """Every create sent, by the email it carried, and what came back."""

    statuses: Counter[int] = field(default_factory=Counter)
    created: dict[str, str] = field(default_factory=dict)  # email -> patient id
    refused: dict[str, httpx.Response] = field(default_factory=dict)  # email -> answer
    others: list[httpx.Response] = field(default_factory=list)


@dataclass
class Platform:
    gateway: str
    patients: str
    database_url: str


@pytest.fixture
async def platform(
    private_postgres: PrivatePostgres,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
    token_minter: TokenMinter,
) -> AsyncIterator[Platform]:
    database_url = await create_database(private_postgres.url, MIGRATIONS_DIR)
    billing_refuses = reserve_port()
    patients_settings = PatientsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        patient_topic=await kafka_topic_factory(partitions=1),
        billing_grpc_target=f"127.0.0.1:{billing_refuses.getsockname()[1]}",
        billing_deadline_seconds=0.2,
        outbox_poll_interval_seconds=0.2,
        seed_demo_patients=False,
        # A slow statement must not hold a request for the default 15 s during the test.
        database_statement_timeout_ms=2_000,
    )
    patients = create_patients(patients_settings, token_verifier=token_minter.verifier())
    try:
        async with serve_asgi(patients, lifespan="on") as patients_url:
            gateway = create_gateway(
                GatewaySettings(
                    environment="test", patients_url=patients_url, rate_limit_api_per_user="off"
                ),
                token_verifier=token_minter.verifier(),
            )
            async with serve_asgi(gateway, lifespan="on") as gateway_url:
                yield Platform(gateway_url, patients_url, database_url)
    finally:
        billing_refuses.close()


async def create_until(
    client: httpx.AsyncClient, headers: dict[str, str], answers: Answers, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        email = f"outage.{uuid.uuid4().hex}@example.com"
        response = await client.post(
            "/api/patients", json=patient_body(email, name="Outage Patient"), headers=headers
        )
        answers.statuses[response.status_code] += 1
        if response.status_code == 201:
            answers.created[email] = response.json()["id"]
        elif response.status_code == 503:
            answers.refused[email] = response
        else:
            answers.others.append(response)


async def readiness(patients_url: str) -> int:
    async with httpx.AsyncClient(base_url=patients_url) as client:
        return (await client.get("/health/ready")).status_code


async def wait_for(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.1)


async def test_a_database_restart_under_create_load_gives_503s_and_loses_nothing(
    platform: Platform, private_postgres: PrivatePostgres, token_minter: TokenMinter
) -> None:
    headers = token_minter.authorization(Role.ADMIN, email="admin@test.com")
    answers = Answers()
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30.0) as client:
        writers = [
            asyncio.create_task(create_until(client, headers, answers, stop))
            for _ in range(WRITERS)
        ]
        try:
            await asyncio.sleep(1.0)
            created_before = len(answers.created)
            await private_postgres.stop()
            await asyncio.sleep(2.0)
            readiness_down = await readiness(platform.patients)
            refused_during = len(answers.refused)
            await private_postgres.start()

            async def created_again() -> bool:
                return len(answers.created) > created_before + 20

            await wait_for(created_again, within=30)
        finally:
            stop.set()
            await asyncio.gather(*writers)

    assert answers.others == [], [(r.status_code, r.text) for r in answers.others[:3]]
    assert created_before > 0
    assert refused_during > 0
    assert readiness_down == 503
    assert await readiness(platform.patients) == 200
    for response in answers.refused.values():
        body = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert body["status"] == 503
        assert body["requestId"] == response.headers["x-request-id"]
        assert int(response.headers["retry-after"]) > 0

    connection = await asyncpg.connect(asyncpg_url(platform.database_url))
    try:
        stored = {
            row["email"]: str(row["id"])
            for row in await connection.fetch("SELECT id, email FROM patients")
        }
    finally:
        await connection.close()
    assert stored == answers.created  # none missing, none saved behind a 503


async def test_the_service_keeps_its_connections_open_while_the_database_is_down(
    platform: Platform, private_postgres: PrivatePostgres, token_minter: TokenMinter
) -> None:
    headers = token_minter.authorization(Role.ADMIN, email="admin@test.com")
    await private_postgres.stop()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=platform.patients, limits=limits) as client:
        local_ends = set()
        statuses = []
        for _ in range(3):
            email = f"kept.{uuid.uuid4().hex}@example.com"
            response = await client.post(
                "/patients", json=patient_body(email, name="Outage Patient"), headers=headers
            )
            statuses.append(response.status_code)
            local_ends.add(response.extensions["network_stream"].get_extra_info("client_addr"))
    assert statuses == [503, 503, 503]
    assert len(local_ends) == 1  # one connection served all three


async def test_a_login_while_the_database_is_down_is_503_not_500(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    settings = AuthSettings(
        database_url=await create_database(private_postgres.url, AUTH_MIGRATIONS),
        development_key_dir=tmp_path / "keys",
        argon2_memory_cost_kib=1024,
        argon2_time_cost=1,
        environment="test",
    )
    async with serve_asgi(create_auth(settings), lifespan="on") as auth_url:
        await private_postgres.stop()
        async with httpx.AsyncClient(base_url=auth_url) as client:
            response = await client.post(
                "/login", json={"email": ORIGINAL_ADMIN_EMAIL, "password": "password123"}
            )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["requestId"] == response.headers["x-request-id"]
    assert "retry-after" in response.headers


async def test_a_billing_grpc_call_while_the_database_is_down_is_unavailable(
    private_postgres: PrivatePostgres, kafka_bootstrap_servers: str, token_minter: TokenMinter
) -> None:
    settings = BillingSettings(
        database_url=await create_database(private_postgres.url, BILLING_MIGRATIONS),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=0,
        background_workers=False,
        environment="test",
    )
    app = create_billing(settings, token_verifier=token_minter.verifier())
    async with (
        serve_asgi(app, lifespan="on"),
        grpc.aio.insecure_channel(f"127.0.0.1:{app.state.grpc_port}") as channel,
    ):
        await private_postgres.stop()
        request = BillingRequest(patientId=str(uuid.uuid4()), name="A B", email="a@b.example")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await BillingServiceStub(channel).CreateBillingAccount(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
