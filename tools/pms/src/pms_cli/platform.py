"""The whole platform on one machine: infrastructure, migrations, the five services.

``pms up``, the end-to-end test suite and the bench start it with this same code, and take
its addresses from it (``gateway_url``, ``ports``), never from constants: a platform moved
by ``PMS_PORT_OFFSET`` (or one port setting) is found where it listens.
"""

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
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
from pms_cli.services import PlatformPorts, ServiceSpec, platform_ports

READY_TIMEOUT_SECONDS = 60.0
UP_PID_FILE = "up.pid"


class Platform:
    """Start with :meth:`start` (or ``async with``); :meth:`stop` undoes exactly that."""

    def __init__(
        self,
        console: Console,
        *,
        echo_logs: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``environ`` (the process environment by default) chooses the ports
        (``PMS_PORT_OFFSET``, ``PMS_<SERVICE>_HTTP_PORT``), the state folder and the infra."""
        self.console = console
        self.echo_logs = echo_logs
        self.environ = dict(os.environ if environ is None else environ)
        self.ports: PlatformPorts = platform_ports(self.environ)
        self.state_dir: Path = state_dir(self.environ)
        self.specs: tuple[ServiceSpec, ...] = self.ports.services
        self.endpoints: InfraEndpoints | None = None
        self.services: list[RunningService] = []

    @property
    def gateway_url(self) -> str:
        return self.ports.gateway_url

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def environment_of(self, spec: ServiceSpec) -> dict[str, str]:
        assert self.endpoints is not None
        return {
            **self.environ,
            **spec.environment(
                self.endpoints.postgres_url,
                self.endpoints.kafka_bootstrap_servers,
                self.state_dir,
                self.ports,
            ),
        }

    async def start(self) -> None:
        self.endpoints = await ensure_infra(
            self.console, state_dir=self.state_dir, environ=self.environ
        )
        self.console.print("[bold]Migrating databases...[/bold]")
        await asyncio.gather(
            *(
                run_to_completion(spec, "migrate", self.environment_of(spec))
                for spec in self.specs
                if spec.database is not None
            )
        )
        self.console.print("[bold]Starting services...[/bold]")
        for index, spec in enumerate(self.specs):
            self.services.append(
                await start_service(
                    spec,
                    self.environment_of(spec),
                    self.console,
                    self.log_dir,
                    index,
                    self.echo_logs,
                )
            )
        await wait_until_ready(self.services, READY_TIMEOUT_SECONDS)
        (self.state_dir / UP_PID_FILE).write_text(str(os.getpid()))

    async def stop_service(self, name: str) -> None:
        """Stop one service (as an outage would); :meth:`start_service` brings it back."""
        running = next(service for service in self.services if service.spec.name == name)
        await stop_services([running])
        self.services.remove(running)

    async def start_service(self, name: str) -> None:
        spec = next(spec for spec in self.specs if spec.name == name)
        index = self.specs.index(spec)
        service = await start_service(
            spec, self.environment_of(spec), self.console, self.log_dir, index, self.echo_logs
        )
        self.services.append(service)
        await wait_until_ready([service], READY_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        (self.state_dir / UP_PID_FILE).unlink(missing_ok=True)
        await stop_services(self.services)
        self.services = []
        if self.endpoints is not None:
            await stop_infra(self.endpoints, self.console, state_dir=self.state_dir)
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
