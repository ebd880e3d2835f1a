"""The platform that the API fuzz runs against: auth, patients, billing and analytics on
fresh databases and private topics, the gateway in front of them, all in this test's
event loop under uvicorn on ephemeral ports (never the fixed 4000-4005), and the token
of the seeded administrator, logged in through the gateway as a client would.

Tokens are auth's own: every service and the gateway verify them from auth's JWKS, as
in production. The background workers (outbox relays, consumers) stay off: the fuzz
exercises the HTTP API, which answers without them; their own tests cover them.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pms_analytics.app import create_app as create_analytics
from pms_analytics.models import MIGRATIONS_DIR as ANALYTICS_MIGRATIONS
from pms_analytics.settings import AnalyticsSettings
from pms_auth.app import create_app as create_auth
from pms_auth.keys import private_key_pem
from pms_auth.models import MIGRATIONS_DIR as AUTH_MIGRATIONS
from pms_auth.settings import DEVELOPMENT_PASSWORD, ORIGINAL_ADMIN_EMAIL, AuthSettings
from pms_billing.app import create_app as create_billing
from pms_billing.models import MIGRATIONS_DIR as BILLING_MIGRATIONS
from pms_billing.settings import BillingSettings
from pms_gateway.app import create_app as create_gateway
from pms_gateway.settings import GatewaySettings
from pms_patients.app import create_app as create_patients
from pms_patients.models import MIGRATIONS_DIR as PATIENTS_MIGRATIONS
from pms_patients.settings import PatientsSettings
from pms_testing.databases import create_database, drop_databases
from pms_testing.kafka import private_topics
from pms_testing.servers import serve_asgi
from pms_testing.tokens import bearer

# Long enough for the longest `make api-fuzz` run; the services accept no longer life.
TOKEN_TTL_SECONDS = 4 * 3600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/api_fuzz/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class FuzzedPlatform:
    gateway_url: str
    authorization: dict[str, str]
    """The ``Authorization`` header of the seeded ADMIN, whose role may call everything."""


@pytest.fixture(scope="module")
async def fuzzed_platform(
    postgres_url: str, kafka_bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzedPlatform]:
    databases: list[str] = []

    async def database(migrations: Path) -> str:
        databases.append(await create_database(postgres_url, migrations))
        return databases[-1]

    try:
        async with AsyncExitStack() as stack:
            topic = await stack.enter_async_context(private_topics(kafka_bootstrap_servers))
            common: dict[str, Any] = {"environment": "test", "background_workers": False}
            kafka: dict[str, Any] = {
                "kafka_bootstrap_servers": kafka_bootstrap_servers,
                "patient_topic": await topic(),
            }
            auth_settings = AuthSettings(
                **common,
                database_url=await database(AUTH_MIGRATIONS),
                signing_key=private_key_pem(Ed25519PrivateKey.generate()).decode(),
                development_key_dir=tmp_path_factory.mktemp("auth-keys"),
                access_token_ttl_seconds=TOKEN_TTL_SECONDS,
                argon2_memory_cost_kib=1024,
                argon2_time_cost=1,
            )
            auth_url = await stack.enter_async_context(
                serve_asgi(create_auth(auth_settings), lifespan="on")
            )
            tokens: dict[str, Any] = {
                "auth_jwks_url": f"{auth_url}/.well-known/jwks.json",
                "token_max_lifetime_seconds": TOKEN_TTL_SECONDS,
            }
            billing_app = create_billing(
                BillingSettings(
                    **common,
                    **kafka,
                    **tokens,
                    database_url=await database(BILLING_MIGRATIONS),
                    billing_topic=await topic(),
                    grpc_port=0,
                    consumer_group=f"fuzz-{uuid.uuid4().hex}",
                )
            )
            billing_url = await stack.enter_async_context(serve_asgi(billing_app, lifespan="on"))
            patients_settings = PatientsSettings(
                **common,
                **kafka,
                **tokens,
                database_url=await database(PATIENTS_MIGRATIONS),
                billing_grpc_target=f"127.0.0.1:{billing_app.state.grpc_port}",
                seed_demo_patients=False,
            )
            patients_url = await stack.enter_async_context(
                serve_asgi(create_patients(patients_settings), lifespan="on")
            )
            analytics_settings = AnalyticsSettings(
                **common,
                **kafka,
                **tokens,
                database_url=await database(ANALYTICS_MIGRATIONS),
                billing_topic=await topic(),
                consumer_group=f"fuzz-{uuid.uuid4().hex}",
            )
            analytics_url = await stack.enter_async_context(
                serve_asgi(create_analytics(analytics_settings), lifespan="on")
            )
            gateway_settings = GatewaySettings(
                environment="test",
                **tokens,
                auth_url=auth_url,
                patients_url=patients_url,
                billing_url=billing_url,
                analytics_url=analytics_url,
                # Still limited (so documented as 429), but far above what the fuzz sends,
                # so that its requests reach the services.
                rate_limit_api_per_user="100000/1s",
                rate_limit_login_per_address="100000/1s",
                rate_limit_login_per_email="100000/1s",
            )
            gateway_url = await stack.enter_async_context(
                serve_asgi(create_gateway(gateway_settings), lifespan="on")
            )
            async with httpx.AsyncClient(base_url=gateway_url, timeout=10.0) as client:
                response = await client.post(
                    "/auth/login",
                    json={"email": ORIGINAL_ADMIN_EMAIL, "password": DEVELOPMENT_PASSWORD},
                )
            assert response.status_code == 200, response.text
            yield FuzzedPlatform(gateway_url, bearer(response.json()["accessToken"]))
    finally:
        await drop_databases(postgres_url, databases)
