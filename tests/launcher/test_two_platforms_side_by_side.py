"""Two complete platforms side by side on one machine, each started by `pms up` with one
setting (``PMS_PORT_OFFSET``) and a state folder of its own: each serves a login, a
creation and a list through its own gateway, neither sees the other's data, and neither
trusts the other's tokens (the "silently trusts another instance's keys" failure).

Each has its own PostgreSQL and Kafka, as a second copy on a developer's machine would:
its topics are the same names (``patient``, ``billing``), so a shared broker would feed
one copy's events into the other's analytics and billing."""

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pms_testing.patients import patient_body
from pms_testing.polling import eventually
from pms_testing.tokens import bearer

from .conftest import REPO_ROOT, pms_command, shell_environment

# Ports 14100-14105, 19101 and 64429, 19192-19193; then 14200-14205, 19201 and 64529,
# 19292-19293: none is a development port, nor one of `make test`'s (+10000).
OFFSETS = (10_100, 10_200)
SYSTEM_MD_PORTS = {"patients": 4000, "billing": 4001, "analytics": 4002, "gateway": 4004}
ADMIN = {"email": "testuser@test.com", "password": "password123"}
# Starting two platforms at once on two busy cores is slow; this bounds a hang, it
# measures nothing.
START_SECONDS = 300.0
STOP_SECONDS = 90.0


@dataclass
class LaunchedPlatform:
    """One `pms up` process and where its services answer."""

    offset: int
    process: asyncio.subprocess.Process
    output: Path

    def url_of(self, service: str) -> str:
        return f"http://127.0.0.1:{SYSTEM_MD_PORTS[service] + self.offset}"

    @property
    def gateway(self) -> str:
        return self.url_of("gateway")


async def _every_service_ready(client: httpx.AsyncClient, platform: LaunchedPlatform) -> bool:
    if platform.process.returncode is not None:
        raise AssertionError(
            f"`pms up` with offset {platform.offset} exited:\n{platform.output.read_text()}"
        )
    urls = [platform.url_of(name) for name in SYSTEM_MD_PORTS]
    urls.append(f"http://127.0.0.1:{4005 + platform.offset}")  # auth
    try:
        answers = await asyncio.gather(*(client.get(f"{url}/health/ready") for url in urls))
    except httpx.TransportError:
        return False
    return all(answer.status_code == 200 for answer in answers)


async def _stop(platform: LaunchedPlatform) -> None:
    """As Ctrl-C would: `pms up` stops its services and the infra it started."""
    if platform.process.returncode is None:
        platform.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(platform.process.wait(), STOP_SECONDS)
        except TimeoutError:
            platform.process.kill()
            await platform.process.wait()


@pytest.fixture(scope="module")
async def platforms(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[list[LaunchedPlatform]]:
    launched: list[LaunchedPlatform] = []
    try:
        for offset in OFFSETS:
            state = tmp_path_factory.mktemp(f"platform-{offset}")
            output = state / "pms-up.out"
            with output.open("wb") as sink:
                process = await asyncio.create_subprocess_exec(
                    pms_command(),
                    "up",
                    cwd=REPO_ROOT,
                    env=shell_environment(PMS_PORT_OFFSET=str(offset), PMS_STATE_DIR=str(state)),
                    stdout=sink,
                    stderr=asyncio.subprocess.STDOUT,
                )
            launched.append(LaunchedPlatform(offset, process, output))
        async with httpx.AsyncClient(timeout=5.0) as client:
            for platform in launched:

                async def ready(platform: LaunchedPlatform = platform) -> bool:
                    return await _every_service_ready(client, platform)

                await eventually(
                    ready,
                    START_SECONDS,
                    interval=1.0,
                    description=f"every service of the platform at +{platform.offset} ready",
                )
        yield launched
    finally:
        for platform in launched:
            with contextlib.suppress(ProcessLookupError):
                await _stop(platform)


async def _log_in(client: httpx.AsyncClient, platform: LaunchedPlatform) -> dict[str, str]:
    response = await client.post(f"{platform.gateway}/auth/login", json=ADMIN)
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


async def test_two_platforms_each_log_in_create_and_list_through_their_own_gateway(
    platforms: list[LaunchedPlatform],
) -> None:
    emails: dict[int, str] = {}
    async with httpx.AsyncClient(timeout=15.0) as client:
        for platform in platforms:
            headers = await _log_in(client, platform)
            patient = patient_body(name="Side By Side")
            created = await client.post(
                f"{platform.gateway}/api/patients", json=patient, headers=headers
            )
            assert created.status_code == 201, created.text
            emails[platform.offset] = patient["email"]

        for platform in platforms:
            headers = await _log_in(client, platform)
            for offset, email in emails.items():
                listed = await client.get(
                    f"{platform.gateway}/api/patients", params={"search": email}, headers=headers
                )
                assert listed.status_code == 200, listed.text
                found = [row["email"] for row in listed.json()]
                # Its own patient, and never the other platform's.
                assert found == ([email] if offset == platform.offset else []), offset


async def test_a_token_of_one_platform_is_refused_by_the_other_gateway_and_services(
    platforms: list[LaunchedPlatform],
) -> None:
    first, second = platforms
    async with httpx.AsyncClient(timeout=15.0) as client:
        for issuer, other in ((first, second), (second, first)):
            foreign = await _log_in(client, issuer)
            refused = {
                "gateway": await client.get(f"{other.gateway}/api/patients", headers=foreign),
                "patients": await client.get(
                    f"{other.url_of('patients')}/patients", headers=foreign
                ),
                "billing": await client.get(
                    f"{other.url_of('billing')}/billing/accounts/{uuid.uuid4()}", headers=foreign
                ),
                "analytics": await client.get(
                    f"{other.url_of('analytics')}/analytics/summary", headers=foreign
                ),
            }
            statuses = {name: answer.status_code for name, answer in refused.items()}
            assert statuses == dict.fromkeys(refused, 401), (issuer.offset, statuses)
            # The same token is good where it was issued.
            own = await client.get(f"{issuer.gateway}/api/patients", headers=foreign)
            assert own.status_code == 200


async def test_pms_status_shows_where_the_moved_platform_answers(
    platforms: list[LaunchedPlatform],
) -> None:
    platform = platforms[0]
    status = await asyncio.create_subprocess_exec(
        pms_command(),
        "status",
        cwd=REPO_ROOT,
        env=shell_environment(
            PMS_PORT_OFFSET=str(platform.offset),
            PMS_STATE_DIR=str(platform.output.parent),
            COLUMNS="200",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await status.communicate())[0].decode()

    assert platform.gateway in output, output
    assert "http://127.0.0.1:4004 " not in output, output
