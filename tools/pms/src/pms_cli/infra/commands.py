"""The `pms infra` commands: up, down, status, env, run."""

import asyncio
import shlex
import time
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pms_cli.infra.console import error, step
from pms_cli.infra.errors import InfraError
from pms_cli.infra.manager import ensure_infra, stop_local_infra
from pms_cli.infra.runner import run_with_infra
from pms_cli.infra.status import infra_status, running_environment
from pms_cli.infra.urls import redact_url

infra_app = typer.Typer(
    help="Local PostgreSQL and Kafka without Docker (external ones via PMS_POSTGRES_URL "
    "and PMS_KAFKA_BOOTSTRAP_SERVERS).",
    no_args_is_help=True,
)

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; an `InfraError` becomes a clear message and exit status 1."""
    try:
        return asyncio.run(coroutine)
    except InfraError as problem:
        error(str(problem))
        raise typer.Exit(1) from None


@infra_app.command()
def up() -> None:
    """Start PostgreSQL and Kafka (or reuse what runs) and create databases and topics."""
    began = time.monotonic()
    endpoints = _run(ensure_infra(persistent=True))
    step(f"PostgreSQL {redact_url(endpoints.postgres_url)}")
    step(f"Kafka      {endpoints.kafka_bootstrap_servers}")
    step(f'ready in {time.monotonic() - began:.1f} s; `eval "$(pms infra env)"` exports them')


@infra_app.command()
def down(
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the data, logs and state in .pms/.")
    ] = False,
) -> None:
    """Stop the local PostgreSQL and Kafka of this checkout (data is kept unless --purge)."""
    stopped = _run(stop_local_infra(purge=purge))
    step(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@infra_app.command()
def status() -> None:
    """Show each component: running, stopped or external, and its address."""
    statuses = _run(infra_status())
    table = Table(show_edge=False, pad_edge=False)
    for column in ("component", "state", "address", "detail"):
        table.add_column(column)
    colours = {"running": "green", "external": "cyan", "stopped": "dim"}
    for entry in statuses:
        colour = colours.get(entry.condition, "yellow")
        table.add_row(
            entry.component.value,
            f"[{colour}]{entry.condition}[/{colour}]",
            redact_url(entry.address) if "://" in entry.address else entry.address,
            entry.detail,
        )
    output = Console()
    if not output.is_terminal:
        output = Console(width=200)  # a pipe or a file: never cut the addresses
    output.print(table)


@infra_app.command()
def env() -> None:
    """Print `export` lines for the running infra: eval "$(pms infra env)"."""
    variables = _run(running_environment())
    for name, value in variables.items():
        typer.echo(f"export {name}={shlex.quote(value)}")


@infra_app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    command: Annotated[list[str], typer.Argument(help="The command to run, after `--`.")],
) -> None:
    """Run COMMAND with the infra's addresses, then stop what this run started.

    Reuses what already runs; exits with COMMAND's exit code.
    """
    raise typer.Exit(_run(run_with_infra(command)))
