"""The end-to-end suite's platform when `pms containers test` runs it: the Compose stack.

The suite asks ``platform`` for the gateway's URL, each service's own URL (their docs)
and to stop and start one service (an outage). Against containers those are the ports
deploy/compose.containers-test.yaml publishes (``PMS_<SERVICE>_HTTP_PORT``, as for the
launcher) and ``podman stop`` / ``podman start`` of the service's container.
"""

import asyncio
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from pms_cli.containers.plan import container_name
from pms_cli.services import PlatformPorts, ServiceSpec, platform_ports

READY_TIMEOUT_SECONDS = 90.0
STOP_GRACE_SECONDS = "20"


@dataclass(frozen=True)
class ContainerService:
    spec: ServiceSpec


class ContainerPlatform:
    def __init__(self, project: str, environ: Mapping[str, str]) -> None:
        self.project = project
        self.ports: PlatformPorts = platform_ports(environ)
        self.services = [ContainerService(spec) for spec in self.ports.services]

    @property
    def gateway_url(self) -> str:
        return self.ports.gateway_url

    def _spec(self, name: str) -> ServiceSpec:
        return next(s.spec for s in self.services if s.spec.name == name)

    async def _podman(self, *args: str) -> None:
        await asyncio.to_thread(
            subprocess.run,
            ["podman", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    async def stop_service(self, name: str) -> None:
        """Stop one service's container (as an outage would)."""
        await self._podman("stop", "--time", STOP_GRACE_SECONDS, container_name(self.project, name))

    async def start_service(self, name: str) -> None:
        await self._podman("start", container_name(self.project, name))
        url = f"{self._spec(name).base_url}/health/ready"
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"{name} not ready at {url}")
                await asyncio.sleep(0.5)
