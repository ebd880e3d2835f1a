"""`pms containers ...`: the container images and the Compose stack on this machine."""

from typing import Annotated

import typer
from rich.console import Console

from pms_cli.containers.run import DEFAULT_PORT_OFFSET, DEFAULT_PROJECT, Options, containers_test
from pms_cli.infra.paths import find_repo_root

containers_app = typer.Typer(help="Container images and the Compose stack, with podman.")


@containers_app.command(
    name="test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def run_test(
    pytest_args: Annotated[
        list[str] | None, typer.Argument(help="pytest's arguments [default: -m e2e tests/e2e].")
    ] = None,
    project: Annotated[str, typer.Option(help="The Compose project name.")] = DEFAULT_PROJECT,
    port_offset: Annotated[
        int, typer.Option(help="Added to each published port (gateway 4004+N).")
    ] = DEFAULT_PORT_OFFSET,
) -> None:
    """Build the base and service images, start the Compose stack with podman-compose, run
    the end-to-end suite against it and remove every container, volume and network of it."""
    console = Console(stderr=True, highlight=False)
    options = Options(
        root=find_repo_root(),
        project=project,
        port_offset=port_offset,
        pytest_args=tuple(pytest_args) if pytest_args else Options.pytest_args,
    )
    raise typer.Exit(containers_test(options, lambda line: console.print(line, markup=False)))
