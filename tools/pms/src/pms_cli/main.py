"""``pms``: the local launcher of the patient management platform."""

import asyncio

import typer
from rich.console import Console

from pms_cli import protogen
from pms_cli.infra.commands import infra_app
from pms_cli.up import run_platform

app = typer.Typer(help="Run the patient management platform on this machine.", no_args_is_help=True)
app.add_typer(infra_app, name="infra")


@app.command()
def up() -> None:
    """Start PostgreSQL, Kafka and the five services; Ctrl-C stops everything."""
    raise typer.Exit(asyncio.run(run_platform(Console(stderr=True))))


@app.command()
def proto(check: bool = typer.Option(False, help="Only report stale generated files.")) -> None:
    """Regenerate the protobuf/gRPC code in libs/contracts from proto/."""
    raise typer.Exit(protogen.main(["--check"] if check else []))
