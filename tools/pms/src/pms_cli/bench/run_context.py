"""What a scenario and the profiler may use of a bench run: the plan, the target, the
platform it started, the watched processes, and the helpers that run a load generator.
:class:`~pms_cli.bench.runner.BenchRun` is the one implementation; the scenarios and the
profiler depend on this protocol, so that they do not import the runner that calls them.
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


class BenchContext(Protocol):
    options: BenchOptions
    plan: Plan
    target: Target
    run_id: str
    stem: str
    watched: list[procs.Watched]
    platform: BenchPlatform | None
    tools: Tools

    def say(self, message: str) -> None: ...

    def write_script(self, name: str, text: str) -> Path: ...

    async def token(self) -> str: ...

    async def measured(
        self, scenario: ScenarioResult, run: Callable[[], Awaitable[LoadResult]]
    ) -> LoadResult: ...

    def print_run(self, label: str, result: LoadResult) -> None: ...

    async def wrk(
        self, scenario: ScenarioResult, url: str, script: Path, connections: int, seconds: float
    ) -> LoadResult: ...

    def patients_path(self) -> str: ...
