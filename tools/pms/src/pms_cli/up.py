"""``pms up``: infrastructure, migrations, the five services, a table of URLs and demo
users; Ctrl-C (or ``pms down``) stops everything."""

import asyncio
import signal

from rich.console import Console
from rich.table import Table

from pms_cli.infra.errors import InfraError
from pms_cli.platform import Platform
from pms_cli.service_processes import RunningService, ServiceStartError

# Seeded by the auth service in development mode (see its settings); shown, not imported.
DEMO_USERS = (
    ("testuser@test.com", "password123", "ADMIN"),
    ("clinician@test.com", "password123", "CLINICIAN"),
    ("analyst@test.com", "password123", "ANALYST"),
)


def _urls_table(services: list[RunningService], gateway_url: str) -> Table:
    table = Table(title="Patient management platform is up", title_style="bold green")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("OpenAPI")
    # The web console first: it is where the people the platform is for begin.
    table.add_row("[bold]web console[/bold]", f"[bold]{gateway_url}/[/bold]", "")
    for service in services:
        table.add_row(service.spec.name, service.spec.base_url, f"{service.spec.base_url}/docs")
    table.add_row(
        "[bold]everything[/bold]", f"[bold]{gateway_url}[/bold]", f"[bold]{gateway_url}/docs[/bold]"
    )
    return table


def _users_table() -> Table:
    table = Table(title="Demo users (development only)")
    table.add_column("email")
    table.add_column("password")
    table.add_column("role")
    for row in DEMO_USERS:
        table.add_row(*row)
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
    try:
        platform = Platform(console)
    except InfraError as error:  # ports that cannot work: two services on one, out of range
        console.print(f"[bold red]Could not start the platform:[/bold red] {error}")
        return 1
    try:
        with console.status("Starting PostgreSQL, Kafka and the services..."):
            await platform.start()
        console.print(_urls_table(platform.services, platform.gateway_url))
        console.print(_users_table())
        console.print(
            f"Logs follow (also in {platform.log_dir}/<service>.log); `pms status` in another"
            " terminal shows these URLs again. Ctrl-C stops everything."
        )
        reason = await _wait_for_stop_signal_or_exit(platform.services)
        console.print(f"[bold]Stopping ({reason})...[/bold]")
        return 0 if reason == "stop requested" else 1
    except (ServiceStartError, InfraError) as error:  # InfraError: a port already taken, say
        console.print(f"[bold red]Could not start the platform:[/bold red] {error}")
        return 1
    finally:
        await platform.stop()
        console.print("[bold]Everything stopped.[/bold]")
