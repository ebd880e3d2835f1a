"""The whole platform on one machine: infrastructure, migrations, the five services.

``pms up`` and the end-to-end test suite start it with this same code.
"""

import asyncio
import os
from types import TracebackType
from typing import Self

from rich.console import Console

from pms_cli.infra.manager import InfraEndpoints, ensure_infra, stop_infra
from pms_cli.infra.paths import state_dir
from pms_cli.service_processes import (
    RunningService,
    run_to_completion,
    start_service,
    stop_services,
    wait_until_ready,
)
from pms_cli.services import SERVICES, ServiceSpec

READY_TIMEOUT_SECONDS = 60.0
UP_PID_FILE = "up.pid"


class Platform:
    """Start with :meth:`start` (or ``async with``); :meth:`stop` undoes exactly that."""

    def __init__(self, console: Console, *, echo_logs: bool = True) -> None:
        self.console = console
        self.echo_logs = echo_logs
        self.endpoints: InfraEndpoints | None = None
        self.services: list[RunningService] = []

    def environment_of(self, spec: ServiceSpec) -> dict[str, str]:
        assert self.endpoints is not None
        return spec.environment(
            self.endpoints.postgres_url, self.endpoints.kafka_bootstrap_servers, state_dir()
        )

    async def start(self) -> None:
        self.endpoints = await ensure_infra(self.console)
        self.console.print("[bold]Migrating databases...[/bold]")
        await asyncio.gather(
            *(
                run_to_completion(spec, "migrate", self.environment_of(spec))
                for spec in SERVICES
                if spec.database is not None
            )
        )
        self.console.print("[bold]Starting services...[/bold]")
        log_dir = state_dir() / "logs"
        for index, spec in enumerate(SERVICES):
            self.services.append(
                await start_service(
                    spec, self.environment_of(spec), self.console, log_dir, index, self.echo_logs
                )
            )
        await wait_until_ready(self.services, READY_TIMEOUT_SECONDS)
        (state_dir() / UP_PID_FILE).write_text(str(os.getpid()))

    async def stop_service(self, name: str) -> None:
        """Stop one service (as an outage would); :meth:`start_service` brings it back."""
        running = next(service for service in self.services if service.spec.name == name)
        await stop_services([running])
        self.services.remove(running)

    async def start_service(self, name: str) -> None:
        spec = next(spec for spec in SERVICES if spec.name == name)
        index = SERVICES.index(spec)
        service = await start_service(
            spec,
            self.environment_of(spec),
            self.console,
            state_dir() / "logs",
            index,
            self.echo_logs,
        )
        self.services.append(service)
        await wait_until_ready([service], READY_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        (state_dir() / UP_PID_FILE).unlink(missing_ok=True)
        await stop_services(self.services)
        self.services = []
        if self.endpoints is not None:
            await stop_infra(self.endpoints, self.console)
            self.endpoints = None

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self.stop()
