"""What a scenario and the profiler may use of a bench run: the plan, the target, the
platform it started, the watched processes, and the helpers that run a load generator.
:class:`~pms_cli.bench.runner.BenchRun` is the one implementation; the scenarios and the
profiler depend on this protocol, so that they do not import the runner that calls them.
The URLs of the database server and the broker a scenario may need are derived here too.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from pms_cli.bench import procs
from pms_cli.bench.client import Target
from pms_cli.bench.loadgen import LoadResult
from pms_cli.bench.plan import BenchOptions, Plan
from pms_cli.bench.platform_control import BenchPlatform
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.bench.tools import Tools
from pms_cli.infra.settings import load_settings
from pms_cli.infra.urls import local_postgres_url


class BenchContext(Protocol):
    options: BenchOptions
    plan: Plan
    target: Target
    run_id: str
    stem: str
    watched: list[procs.Watched]
    platform: BenchPlatform | None
    tools: Tools
    scenarios: dict[str, ScenarioResult]
    """The scenarios run so far, by name."""

    def say(self, message: str) -> None: ...

    def write_script(self, name: str, text: str) -> Path: ...

    async def token(self) -> str: ...

    async def measured(
        self,
        scenario: ScenarioResult,
        run: Callable[[], Awaitable[LoadResult]],
        watched: list[procs.Watched] | None = None,
    ) -> LoadResult: ...

    def print_run(self, label: str, result: LoadResult) -> None: ...

    async def wrk(
        self,
        scenario: ScenarioResult,
        url: str,
        script: Path,
        connections: int,
        seconds: float,
        watched: list[procs.Watched] | None = None,
    ) -> LoadResult: ...

    def patients_path(self) -> str: ...


def postgres_admin_url(run: BenchContext) -> str | None:
    """The database server's admin URL: given, the one the bench started, or the local
    infra's; none for a remote target without ``--postgres-url``."""
    if run.options.postgres_url:
        return run.options.postgres_url
    if not run.options.target_is_local:
        return None
    if run.platform is not None and run.platform.endpoints is not None:
        return run.platform.endpoints.postgres_url
    settings = load_settings()
    return settings.external_postgres_url or local_postgres_url(settings.postgres_port)


def kafka_bootstrap_servers(run: BenchContext) -> str | None:
    """The platform's broker (local targets only)."""
    if not run.options.target_is_local:
        return None
    if run.platform is not None and run.platform.endpoints is not None:
        return run.platform.endpoints.kafka_bootstrap_servers
    settings = load_settings()
    return settings.external_kafka_bootstrap_servers or f"127.0.0.1:{settings.kafka_port}"
