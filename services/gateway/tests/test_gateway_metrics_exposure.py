"""The gateway is the public edge: its ``/metrics`` answers monitoring on the private
networks, and a client from anywhere else gets the 404 of an unknown path, also when it
comes through a load balancer the gateway trusts (``FORWARDED_ALLOW_IPS``). Run as the
real process, so that uvicorn itself resolves the client's address."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def gateway_behind_a_local_balancer() -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pms_gateway",
        "serve",
        env={
            **os.environ,
            "PMS_GATEWAY_HTTP_PORT": str(port),
            "PMS_GATEWAY_FORWARDED_ALLOW_IPS": "127.0.0.1",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(20):
            while True:
                try:
                    if (await client.get(f"{url}/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def test_metrics_are_refused_to_a_public_client_and_served_to_monitoring(
    gateway_behind_a_local_balancer: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway_behind_a_local_balancer) as client:
        public = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        private = await client.get("/metrics", headers={"X-Forwarded-For": "10.2.3.4"})
        # Any other path outside the API is a page of the web console, when it is built.
        unknown = await client.get("/api/no-such-path")
    assert public.status_code == 404
    assert public.json()["detail"] == unknown.json()["detail"]
    assert "http_requests_total" not in public.text
    assert private.status_code == 200
    assert "http_requests_total" in private.text
