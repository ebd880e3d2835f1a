"""What a scenario produced, in the shape written to the JSON result."""

from dataclasses import dataclass, field
from typing import Any

from pms_cli.bench.loadgen import LoadResult
from pms_cli.bench.stats import per_thousand


@dataclass
class ScenarioResult:
    """A scenario's runs (closed loop and fixed rate), CPU per service, and extra figures.

    ``status`` is ``measured``, or ``skipped: why`` / ``failed: why`` (always explicit)."""

    name: str
    status: str = "measured"
    runs: list[LoadResult] = field(default_factory=list)
    rate_runs: dict[str, list[LoadResult]] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return self.status == "measured"

    @property
    def peak(self) -> float | None:
        """The best closed-loop rate of 2xx answers."""
        return max((run.ok_rate for run in self.runs), default=None)

    def add_cpu(self, cpu: dict[str, float], requests: int) -> None:
        for name, seconds in cpu.items():
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + seconds
        self.requests += requests

    def cpu_per_thousand(self) -> dict[str, float | None]:
        return {
            name: per_thousand(seconds, self.requests) for name, seconds in self.cpu_seconds.items()
        }

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status}
        if self.runs:
            data["runs"] = [run.to_json() for run in self.runs]
            data["peak_ok_rate"] = round(self.peak or 0.0, 1)
        if self.rate_runs:
            data["fixed_rate_runs"] = {
                where: [run.to_json() for run in runs] for where, runs in self.rate_runs.items()
            }
        if self.cpu_seconds:
            data["cpu_seconds"] = {k: round(v, 3) for k, v in self.cpu_seconds.items()}
            data["requests_for_cpu"] = self.requests
            data["cpu_seconds_per_1000_requests"] = {
                k: None if v is None else round(v, 4) for k, v in self.cpu_per_thousand().items()
            }
        data.update(self.extra)
        return data
