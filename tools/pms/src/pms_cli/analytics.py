"""``pms analytics ...``: operations on the analytics service, run as that service's own
one-shot commands (the launcher never imports a service)."""

import asyncio
import os
import sys

import typer
from rich.console import Console

from pms_cli.infra.manager import ensure_infra, stop_infra
from pms_cli.infra.paths import state_dir
from pms_cli.services import service_named

analytics_app = typer.Typer(help="Operations on the analytics service.", no_args_is_help=True)


async def _run_rebuild(console: Console) -> int:
    endpoints = await ensure_infra(console)
    try:
        spec = service_named("analytics")
        env = spec.environment(
            endpoints.postgres_url, endpoints.kafka_bootstrap_servers, state_dir()
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", spec.module, "rebuild", env={**os.environ, **env}
        )
        return await process.wait()
    finally:
        await stop_infra(endpoints, console)


@analytics_app.command()
def rebuild() -> None:
    """Empty the aggregates and replay the `patient` and `billing` topics from the start."""
    raise typer.Exit(asyncio.run(_run_rebuild(Console(stderr=True))))
