"""The local platform for a bench run: use the one that runs, or start one (and time
its cold start), then stop exactly what was started.

Started here, the services run with the gateway's per-user API limit, its login limits
and its per-client bound on requests in flight off (``PMS_GATEWAY_RATE_LIMIT_*=off``,
``PMS_GATEWAY_MAX_CONCURRENT_REQUESTS_PER_CLIENT=0``): a benchmark measures capacity, and
a client sending thousands of requests per second over 64 connections as one user is
what those limits stop.
Their output goes straight to ``.pms/logs/<service>.log`` (no launcher process copies
lines in between, as ``pms up`` does, so the bench measures the services alone).
"""

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from rich.console import Console

from pms_cli.bench.procs import ports_listening
from pms_cli.infra.manager import InfraEndpoints, ensure_infra, stop_infra
from pms_cli.infra.paths import state_dir
from pms_cli.service_processes import RunningService, run_to_completion, stop_services
from pms_cli.services import SERVICES, ServiceSpec

BILLING_GRPC_PORT = 9001
PLATFORM_PORTS = (*(spec.http_port for spec in SERVICES), BILLING_GRPC_PORT)
READY_TIMEOUT_SECONDS = 60.0
READY_POLL_SECONDS = 0.025
BENCH_ENVIRONMENT = {
    "PMS_GATEWAY_RATE_LIMIT_API_PER_USER": "off",
    "PMS_GATEWAY_RATE_LIMIT_LOGIN_PER_ADDRESS": "off",
    "PMS_GATEWAY_RATE_LIMIT_LOGIN_PER_EMAIL": "off",
    "PMS_GATEWAY_MAX_CONCURRENT_REQUESTS_PER_CLIENT": "0",
}


class PlatformBusyError(RuntimeError):
    """Some of the platform's ports are taken, but the platform is not (all) there."""


@dataclass
class ColdStart:
    """Seconds from launching all five ``serve`` processes together (migrations done,
    PostgreSQL and Kafka up) to each one's ``/health/ready`` answering 200."""

    migrate_seconds: float
    ready_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def all_ready_seconds(self) -> float:
        return max(self.ready_seconds.values(), default=float("nan"))

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "measured",
            "migrate_seconds": round(self.migrate_seconds, 2),
            "ready_seconds": {k: round(v, 2) for k, v in self.ready_seconds.items()},
            "all_ready_seconds": round(self.all_ready_seconds, 2),
        }


async def gateway_ready(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(base_url.rstrip("/") + "/health/ready")
    except httpx.TransportError:
        return False
    return response.status_code == 200


class BenchPlatform:
    """The five services started for one bench run, on the running (or started)
    PostgreSQL and Kafka."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.endpoints: InfraEndpoints | None = None
        self.services: list[RunningService] = []
        self.logs: list[TextIO] = []

    def _environment(self, spec: ServiceSpec) -> dict[str, str]:
        assert self.endpoints is not None
        return {
            **os.environ,
            **BENCH_ENVIRONMENT,
            **spec.environment(
                self.endpoints.postgres_url, self.endpoints.kafka_bootstrap_servers, state_dir()
            ),
        }

    async def start(self) -> ColdStart:
        taken = ports_listening(PLATFORM_PORTS)
        if taken:
            raise PlatformBusyError(
                "the platform is not ready, yet ports "
                + ", ".join(map(str, taken))
                + " are taken (a `pms up` starting or stopping? end-to-end tests?)"
            )
        self.endpoints = await ensure_infra(self.console)
        self.console.print("[bold]Migrating databases...[/bold]")
        started = time.monotonic()
        await asyncio.gather(
            *(
                run_to_completion(spec, "migrate", self._environment(spec))
                for spec in SERVICES
                if spec.database is not None
            )
        )
        cold = ColdStart(migrate_seconds=time.monotonic() - started)
        self.console.print(
            "[bold]Starting the services[/bold] (gateway rate limits off: "
            + ", ".join(BENCH_ENVIRONMENT)
            + ")"
        )
        log_dir = state_dir() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        launched = time.monotonic()
        for spec in SERVICES:
            await self._launch(spec, log_dir)
        cold.ready_seconds = await self._wait_ready(launched)
        return cold

    async def _launch(self, spec: ServiceSpec, log_dir: Path) -> None:
        log = (log_dir / f"{spec.name}.log").open("a", encoding="utf-8")
        self.logs.append(log)
        process = await asyncio.create_subprocess_exec(
            *spec.command("serve"),
            env=self._environment(spec),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self.services.append(RunningService(spec, process, style=""))

    async def _wait_ready(self, launched: float) -> dict[str, float]:
        ready: dict[str, float] = {}
        deadline = launched + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=1.0) as client:

            async def poll(service: RunningService) -> None:
                url = f"{service.spec.base_url}/health/ready"
                while time.monotonic() < deadline:
                    if service.process.returncode is not None:
                        raise RuntimeError(
                            f"{service.spec.name} exited with {service.process.returncode}; "
                            f"see .pms/logs/{service.spec.name}.log"
                        )
                    try:
                        if (await client.get(url)).status_code == 200:
                            ready[service.spec.name] = time.monotonic() - launched
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(READY_POLL_SECONDS)
                raise RuntimeError(f"{service.spec.name} was not ready within 60 s")

            await asyncio.gather(*(poll(service) for service in self.services))
        return ready

    async def stop(self) -> None:
        await stop_services(self.services)
        self.services = []
        for log in self.logs:
            log.close()
        self.logs = []
        if self.endpoints is not None:
            await stop_infra(self.endpoints, self.console)
            self.endpoints = None
