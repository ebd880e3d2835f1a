"""The local platform for a bench run: use the one that runs, or start one (and time
its cold start), then stop exactly what was started.

Started here, the services run with the gateway's per-user API limit, its login limits
and its per-client bound on requests in flight off (``PMS_GATEWAY_RATE_LIMIT_*=off``,
``PMS_GATEWAY_MAX_CONCURRENT_REQUESTS_PER_CLIENT=0``): a benchmark measures capacity, and
a client sending thousands of requests per second over 64 connections as one user is
what those limits stop.
Their output goes straight to ``.pms/logs/<service>.log`` (no launcher process copies
lines in between, as ``pms up`` does, so the bench measures the services alone).

A target without our ``/health/ready`` (another implementation: the original Java
gateway) is ready when what its public contract offers works: a login with the bench's
credentials and ``GET /api/patients`` with that token, both answering 200.
"""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from rich.console import Console

from pms_cli.bench.client import LOGIN_PATH, PATIENTS_PATH, Target, TargetError, login
from pms_cli.bench.procs import ports_listening
from pms_cli.infra.manager import ensure_infra, stop_infra
from pms_cli.platform import Platform
from pms_cli.service_processes import RunningService, run_to_completion, stop_services
from pms_cli.services import ServiceSpec

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


class TargetNotReadyError(RuntimeError):
    """A foreign target refused the login or the list; the message says which."""


async def foreign_target_ready(target: Target) -> None:
    """A login as ``target.email`` and ``GET /api/patients`` with its token must both
    answer 200 (raises :class:`TargetNotReadyError` saying what failed)."""
    where = f"{target.base_url} (no /health/ready: checked as a foreign target)"
    async with httpx.AsyncClient(timeout=30.0) as http:
        try:
            token = await login(http, target.url(LOGIN_PATH), target.email, target.password)
            listing = await http.get(
                target.url(PATIENTS_PATH), headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as error:
            raise TargetNotReadyError(
                f"nothing answers at {target.base_url} ({type(error).__name__}: {error})"
            ) from None
        except TargetError as error:
            raise TargetNotReadyError(
                f"not ready at {where}: {error} (the user is --user/--password)"
            ) from None
    if listing.status_code != 200:
        # The status only: a body could hold patients' details.
        raise TargetNotReadyError(
            f"not ready at {where}: the login worked, but GET {PATIENTS_PATH} answered "
            f"{listing.status_code}"
        )


class BenchPlatform(Platform):
    """The five services started for one bench run, on the running (or started)
    PostgreSQL and Kafka: a :class:`~pms_cli.platform.Platform` (its ports, state folder
    and infra, moved by ``PMS_PORT_OFFSET`` as ``pms up``'s are) whose start is timed
    (``cold_start``) and whose services write their logs themselves."""

    def __init__(self, console: Console, *, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(console, echo_logs=False, environ=environ)
        self.logs: list[TextIO] = []
        self.cold_start: ColdStart | None = None

    def environment_of(self, spec: ServiceSpec) -> dict[str, str]:
        return {**super().environment_of(spec), **BENCH_ENVIRONMENT}

    async def start(self) -> None:
        taken = ports_listening(self.ports.all_ports)
        if taken:
            raise PlatformBusyError(
                "the platform is not ready, yet ports "
                + ", ".join(map(str, taken))
                + " are taken (a `pms up` starting or stopping? end-to-end tests?)"
            )
        self.endpoints = await ensure_infra(
            self.console, state_dir=self.state_dir, environ=self.environ
        )
        self.console.print("[bold]Migrating databases...[/bold]")
        started = time.monotonic()
        await asyncio.gather(
            *(
                run_to_completion(spec, "migrate", self.environment_of(spec))
                for spec in self.specs
                if spec.database is not None
            )
        )
        cold = ColdStart(migrate_seconds=time.monotonic() - started)
        self.console.print(
            "[bold]Starting the services[/bold] (gateway rate limits off: "
            + ", ".join(BENCH_ENVIRONMENT)
            + ")"
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        launched = time.monotonic()
        for spec in self.specs:
            await self._launch(spec, self.log_dir)
        cold.ready_seconds = await self._wait_ready(launched)
        self.cold_start = cold

    async def _launch(self, spec: ServiceSpec, log_dir: Path) -> None:
        log = (log_dir / f"{spec.name}.log").open("a", encoding="utf-8")
        self.logs.append(log)
        process = await asyncio.create_subprocess_exec(
            *spec.command("serve"),
            env=self.environment_of(spec),
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
                            f"see {self.log_dir / (service.spec.name + '.log')}"
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
        """What :meth:`Platform.stop` does but remove ``up.pid``: the bench never writes
        one, so one there is a ``pms up``'s (say, the one whose ports made the start fail)."""
        await stop_services(self.services)
        self.services = []
        if self.endpoints is not None:
            await stop_infra(self.endpoints, self.console, state_dir=self.state_dir)
            self.endpoints = None
        for log in self.logs:
            log.close()
        self.logs = []
