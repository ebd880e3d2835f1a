"""The end-to-end suite: the whole platform started by the launcher's own code, used only
through its gateway, like a client of the original system would.

Where it listens comes from the platform (``platform.gateway_url``): 4004 by default, 14004
under `make test` (``pms test``: its own state folder, infra and ports, ``PMS_PORT_OFFSET``),
so the suite never writes to the development databases. Under `make containers-test`
(``PMS_CONTAINERS_PROJECT`` set) it is the Compose stack of that run instead, on its ports."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from rich.console import Console

from pms_cli.containers.e2e_platform import ContainerPlatform
from pms_cli.containers.run import PROJECT_ENV
from pms_cli.platform import Platform
from pms_testing.tokens import bearer

ADMIN = ("testuser@test.com", "password123")
CLINICIAN = ("clinician@test.com", "password123")
ANALYST = ("analyst@test.com", "password123")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
async def platform(request: pytest.FixtureRequest) -> AsyncIterator[Platform | ContainerPlatform]:
    """Infrastructure (reused when running), migrations and all five services; or the
    containers of `make containers-test`, which started them."""
    project = os.environ.get(PROJECT_ENV)
    if project:
        yield ContainerPlatform(project, os.environ)
        return
    request.getfixturevalue("postgres_url")
    request.getfixturevalue("kafka_bootstrap_servers")
    async with Platform(Console(stderr=True, quiet=True), echo_logs=False) as platform:
        yield platform


@pytest.fixture
async def gateway(platform: Platform | ContainerPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10.0) as client:
        yield client


LogIn = Callable[[tuple[str, str]], Awaitable[dict[str, str]]]


@pytest.fixture(scope="session")
async def session_tokens(
    platform: Platform | ContainerPlatform,
) -> dict[tuple[str, str], dict[str, str]]:
    """Tokens of the users logged in so far. Each user logs in once per run: tokens last 15
    minutes, and the gateway rightly limits logins to 5 a minute per email."""
    return {}


@pytest.fixture
def log_in(
    gateway: httpx.AsyncClient, session_tokens: dict[tuple[str, str], dict[str, str]]
) -> LogIn:
    """Log a demo user in through the gateway (once per run); its Authorization header."""

    async def log_in_as(user: tuple[str, str]) -> dict[str, str]:
        if user not in session_tokens:
            response = await gateway.post(
                "/auth/login", json={"email": user[0], "password": user[1]}
            )
            assert response.status_code == 200, response.text
            session_tokens[user] = bearer(response.json()["token"])
        return session_tokens[user]

    return log_in_as


@pytest.fixture
async def headers_of(log_in: LogIn) -> dict[str, dict[str, str]]:
    """``Authorization`` headers of the three demo users, by role name."""
    return {
        "ADMIN": await log_in(ADMIN),
        "CLINICIAN": await log_in(CLINICIAN),
        "ANALYST": await log_in(ANALYST),
    }
