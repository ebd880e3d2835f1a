"""``pms``: the local launcher of the patient management platform."""

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pms_cli import protogen
from pms_cli.analytics import analytics_app
from pms_cli.bench.commands import bench_app
from pms_cli.containers.commands import containers_app
from pms_cli.infra.commands import infra_app
from pms_cli.infra.errors import InfraError
from pms_cli.infra.paths import state_dir
from pms_cli.isolated_run import DEFAULT_TEST_PORT_OFFSET, run_isolated
from pms_cli.logs import show_log
from pms_cli.platform import UP_PID_FILE
from pms_cli.services import SERVICES
from pms_cli.status import show_status
from pms_cli.up import run_platform

app = typer.Typer(help="Run the patient management platform on this machine.", no_args_is_help=True)
app.add_typer(infra_app, name="infra")
app.add_typer(analytics_app, name="analytics")
app.add_typer(bench_app, name="bench")
app.add_typer(containers_app, name="containers")
SERVICE_NAMES = [spec.name for spec in SERVICES]


@app.command()
def up() -> None:
    """Start PostgreSQL, Kafka and the five services; Ctrl-C stops everything."""
    raise typer.Exit(asyncio.run(run_platform(Console(stderr=True))))


@app.command()
def down() -> None:
    """Stop a running `pms up` (as Ctrl-C would) and the infrastructure it started."""
    pid_file = state_dir() / UP_PID_FILE
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            Console(stderr=True).print("Asked `pms up` to stop everything.")
        except (ProcessLookupError, ValueError):
            pid_file.unlink(missing_ok=True)
    else:
        Console(stderr=True).print("No `pms up` is running.")


@app.command()
def status() -> None:
    """Each service's readiness and each dependency's state."""
    asyncio.run(show_status(Console()))


@app.command()
def logs(
    name: str = typer.Argument(..., help="One of: " + ", ".join(SERVICE_NAMES)),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    lines: int = typer.Option(50, "--lines", "-n", help="How many past lines to show."),
) -> None:
    """Show one service's log."""
    if name not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVICE_NAMES)}")
    show_log(Console(), state_dir() / "logs" / f"{name}.log", follow, lines)


@app.command()
def proto(check: bool = typer.Option(False, help="Only report stale generated files.")) -> None:
    """Regenerate the protobuf/gRPC code in libs/contracts from proto/."""
    raise typer.Exit(protogen.main(["--check"] if check else []))


@app.command(
    name="test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def run_tests_isolated(
    command: Annotated[list[str], typer.Argument(help="The test command, after `--`.")],
    test_state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            envvar="PMS_TEST_STATE_DIR",
            help="The test run's state folder, emptied first [default: .pms/test].",
        ),
    ] = None,
    port_offset: Annotated[
        int,
        typer.Option(
            "--port-offset",
            envvar="PMS_TEST_PORT_OFFSET",
            help="Added to every default port of the test run's platform and infra.",
        ),
    ] = DEFAULT_TEST_PORT_OFFSET,
) -> None:
    """Run COMMAND on a platform of its own (state folder, PostgreSQL, Kafka, ports), so
    the development data stays as it was; `make test` uses it."""
    try:
        raise typer.Exit(asyncio.run(run_isolated(command, test_state_dir, port_offset)))
    except InfraError as problem:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {problem}")
        raise typer.Exit(1) from None
