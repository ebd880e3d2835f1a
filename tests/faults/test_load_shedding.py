"""Twice the sustainable rate and more: a service and the gateway refuse what they cannot
serve now with a fast 503 and ``Retry-After``, start no work for it, and keep serving
what they admitted (and their health checks).

The patients service runs for real (uvicorn, PostgreSQL, Kafka) with a small bound so
that a burst of creates overflows it; afterwards the database holds exactly the
patients answered 201: nothing saved behind a refusal.
"""

import asyncio
import uuid
from collections import Counter

import asyncpg
import httpx

from pms_gateway.app import create_app as create_gateway
from pms_gateway.settings import GatewaySettings
from pms_patients.app import create_app as create_patients
from pms_patients.models import MIGRATIONS_DIR
from pms_patients.settings import PatientsSettings
from pms_platform.db import asyncpg_url
from pms_platform.security import Role
from pms_testing.databases import DatabaseFactory
from pms_testing.kafka import TopicFactory
from pms_testing.patients import patient_body
from pms_testing.processes import reserve_port
from pms_testing.servers import EchoUpstream, serve_asgi
from pms_testing.tokens import TokenMinter

BOUND = 4
BURST = 60


async def test_a_burst_beyond_the_bound_is_shed_with_503_and_nothing_is_saved_for_it(
    database_factory: DatabaseFactory,
    kafka_bootstrap_servers: str,
    kafka_topic_factory: TopicFactory,
    token_minter: TokenMinter,
) -> None:
    database_url = await database_factory(MIGRATIONS_DIR)
    billing_refuses = reserve_port()
    settings = PatientsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        patient_topic=await kafka_topic_factory(partitions=1),
        billing_grpc_target=f"127.0.0.1:{billing_refuses.getsockname()[1]}",
        seed_demo_patients=False,
        max_concurrent_requests=BOUND,
    )
    headers = token_minter.authorization(Role.ADMIN, email="admin@test.com")
    answers: dict[str, httpx.Response] = {}
    limits = httpx.Limits(max_connections=BURST)
    try:
        app = create_patients(settings, token_verifier=token_minter.verifier())
        async with (
            serve_asgi(app, lifespan="on") as url,
            httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client,
        ):

            async def create() -> None:
                email = f"burst.{uuid.uuid4().hex}@example.com"
                answers[email] = await client.post(
                    "/patients", json=patient_body(email, name="Burst Patient"), headers=headers
                )

            burst = [asyncio.create_task(create()) for _ in range(BURST)]
            await asyncio.sleep(0)
            ready_while_saturated = (await client.get("/health/live")).status_code
            await asyncio.gather(*burst)
    finally:
        billing_refuses.close()

    statuses = Counter(response.status_code for response in answers.values())
    assert set(statuses) == {201, 503}, statuses
    for response in answers.values():
        if response.status_code == 503:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "1"
            assert response.json()["requestId"] == response.headers["x-request-id"]
    assert ready_while_saturated == 200

    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        stored = {row["email"] for row in await connection.fetch("SELECT email FROM patients")}
    finally:
        await connection.close()
    assert stored == {email for email, r in answers.items() if r.status_code == 201}


async def test_the_gateway_sheds_beyond_its_bound_and_serves_what_it_admitted(
    token_minter: TokenMinter,
) -> None:
    upstream = EchoUpstream("patients", delay=0.5)
    async with serve_asgi(upstream) as upstream_url:
        gateway = create_gateway(
            GatewaySettings(
                environment="test",
                patients_url=upstream_url,
                max_concurrent_requests=2,
                rate_limit_api_per_user="off",
            ),
            token_verifier=token_minter.verifier(),
        )
        headers = token_minter.authorization(Role.ADMIN)
        async with (
            serve_asgi(gateway, lifespan="on") as url,
            httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=10)) as client,
        ):
            answers = await asyncio.gather(
                *(client.get("/api/patients/slow", headers=headers) for _ in range(6))
            )
    statuses = Counter(response.status_code for response in answers)
    assert statuses == {200: 2, 503: 4}
    assert len(upstream.received) == 2  # the refused ones were never forwarded
