"""``pms up``: infrastructure, migrations, the five services, a table of URLs; Ctrl-C stops all."""

import asyncio
import signal

from rich.console import Console
from rich.table import Table

from pms_cli.infra.manager import ensure_infra, stop_infra
from pms_cli.infra.paths import state_dir
from pms_cli.service_processes import (
    RunningService,
    ServiceStartError,
    run_to_completion,
    start_service,
    stop_services,
    wait_until_ready,
)
from pms_cli.services import SERVICES

READY_TIMEOUT_SECONDS = 60.0


def _urls_table(services: list[RunningService]) -> Table:
    table = Table(title="Patient management platform is up", title_style="bold green")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("API docs")
    for service in services:
        table.add_row(service.spec.name, service.spec.base_url, f"{service.spec.base_url}/docs")
    return table


async def _wait_for_stop_signal_or_exit(services: list[RunningService]) -> str:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stop_requested = asyncio.create_task(stop.wait())
    exits = [asyncio.create_task(service.process.wait()) for service in services]
    done, pending = await asyncio.wait(
        [stop_requested, *exits], return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    if stop_requested in done:
        return "stop requested"
    exited = next(s for s in services if s.process.returncode is not None)
    return f"{exited.spec.name} exited with code {exited.process.returncode}"


async def run_platform(console: Console) -> int:
    """Start everything, wait for Ctrl-C (or a service dying), then stop everything."""
    endpoints = await ensure_infra(console)
    services: list[RunningService] = []
    try:
        environments = {
            spec.name: spec.environment(endpoints.postgres_url, endpoints.kafka_bootstrap_servers)
            for spec in SERVICES
        }
        console.print("[bold]Migrating databases...[/bold]")
        await asyncio.gather(
            *(
                run_to_completion(spec, "migrate", environments[spec.name])
                for spec in SERVICES
                if spec.database is not None
            )
        )
        console.print("[bold]Starting services...[/bold]")
        log_dir = state_dir() / "logs"
        for index, spec in enumerate(SERVICES):
            services.append(
                await start_service(spec, environments[spec.name], console, log_dir, index)
            )
        await wait_until_ready(services, READY_TIMEOUT_SECONDS)
        console.print(_urls_table(services))
        console.print("Logs of every service follow; per service in .pms/logs/. Ctrl-C stops all.")
        reason = await _wait_for_stop_signal_or_exit(services)
        console.print(f"[bold]Stopping ({reason})...[/bold]")
        return 0 if reason == "stop requested" else 1
    except ServiceStartError as error:
        console.print(f"[bold red]Could not start the platform:[/bold red] {error}")
        return 1
    finally:
        await stop_services(services)
        await stop_infra(endpoints, console)
        console.print("[bold]Everything stopped.[/bold]")
