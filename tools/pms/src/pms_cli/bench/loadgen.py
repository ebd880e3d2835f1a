"""Running the native load generators and reading what they report.

- wrk (closed loop: a fixed number of connections, each sending its next request when
  the previous answer arrived) gives the peak rate; our Lua ``done`` hook prints the
  figures as one JSON line.
- oha at a fixed rate (``-q``) with ``--latency-correction`` measures each latency from
  the moment the request was *due*, not sent, so a stalled server cannot hide its stall
  (coordinated omission); its ``--output-format json`` is parsed here.
"""

import asyncio
import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pms_cli.bench.lua import RESULT_MARKER
from pms_cli.bench.stats import per_thousand

WRK_TIMEOUT = "10s"
PERCENTILES = ("p50", "p90", "p99", "p99.9")


class LoadGeneratorError(RuntimeError):
    """The generator failed or printed nothing we could read."""


@dataclass
class LoadResult:
    """One run of a load generator against one URL."""

    tool: str
    connections: int
    seconds: float
    requests: int
    statuses: dict[str, int]
    errors: int
    latency_ms: dict[str, float]
    target_rate: float | None = None
    peak_fraction: float | None = None  # a fixed-rate run: its rate as a share of the peak
    generator_cpu_seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # each watched process's
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Completed requests per second (any status)."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.startswith("2"))

    @property
    def ok_rate(self) -> float:
        """Successful (2xx) requests per second: the figure the tables report."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok_fraction(self) -> float:
        return self.ok / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": self.tool,
            "connections": self.connections,
            "target_rate": self.target_rate,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "rate": round(self.rate, 1),
            "ok_rate": round(self.ok_rate, 1),
            "ok_fraction": round(self.ok_fraction, 4),
            "statuses": self.statuses,
            "errors": self.errors,
            "latency_ms": {k: round(v, 3) for k, v in self.latency_ms.items()},
            "generator_cpu_seconds": round(self.generator_cpu_seconds, 3),
            "notes": self.notes,
        }
        if self.peak_fraction is not None:
            data["peak_fraction"] = self.peak_fraction
        if self.cpu_seconds:
            data["cpu_seconds"] = {k: round(v, 3) for k, v in self.cpu_seconds.items()}
            per_request = {k: per_thousand(v, self.requests) for k, v in self.cpu_seconds.items()}
            data["cpu_seconds_per_1000_requests"] = {
                k: None if v is None else round(v, 4) for k, v in per_request.items()
            }
        return data


def parse_wrk_output(stdout: str, connections: int) -> LoadResult:
    """Read the ``PMS_BENCH_RESULT`` line that our Lua ``done`` hook printed."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARKER + " "):
            data = json.loads(line[len(RESULT_MARKER) + 1 :])
            break
    else:
        raise LoadGeneratorError("wrk printed no result line:\n" + stdout[-2000:])
    errors = data["errors"]
    socket_errors = sum(int(errors[k]) for k in ("connect", "read", "write", "timeout"))
    latency = {k: float(v) / 1000 for k, v in data["latency_us"].items()}
    return LoadResult(
        tool="wrk",
        connections=connections,
        seconds=float(data["duration_us"]) / 1e6,
        requests=int(data["requests"]),
        statuses={str(k): int(v) for k, v in sorted(data["statuses"].items())},
        errors=socket_errors,
        latency_ms=latency,
    )


def parse_oha_json(text: str, connections: int, target_rate: float) -> LoadResult:
    """Read oha's ``--output-format json`` (latencies in seconds)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise LoadGeneratorError(f"oha printed no JSON: {error}\n{text[-2000:]}") from None
    summary = data["summary"]
    statuses = {str(k): int(v) for k, v in sorted(data.get("statusCodeDistribution", {}).items())}
    kinds = {str(k): int(v) for k, v in data.get("errorDistribution", {}).items()}
    # Requests still in flight when the duration ends are cancelled: not the server's fault.
    aborted = sum(n for kind, n in kinds.items() if "deadline" in kind.lower())
    errors = sum(kinds.values()) - aborted
    percentiles = data.get("latencyPercentiles", {})
    latency = {
        k: float(percentiles[k]) * 1000 for k in PERCENTILES if percentiles.get(k) is not None
    }
    if summary.get("average") is not None:
        latency["mean"] = float(summary["average"]) * 1000
    if summary.get("slowest") is not None:
        latency["max"] = float(summary["slowest"]) * 1000
    seconds = float(summary["total"])
    result = LoadResult(
        tool="oha",
        connections=connections,
        seconds=seconds,
        requests=sum(statuses.values()),
        statuses=statuses,
        errors=errors,
        latency_ms=latency,
        target_rate=target_rate,
    )
    if aborted:
        result.notes.append(f"{aborted} in flight at the end (cancelled)")
    result.notes.extend(
        f"{n}x {kind}" for kind, n in kinds.items() if "deadline" not in kind.lower()
    )
    return result


def wrk_command(
    wrk: str, url: str, script: Path, connections: int, seconds: float, threads: int = 1
) -> list[str]:
    return [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={WRK_TIMEOUT}",
        "-s",
        str(script),
        url,
    ]


def oha_command(
    oha: str,
    url: str,
    rate: float,
    connections: int,
    seconds: float,
    headers: dict[str, str],
) -> list[str]:
    command = [
        oha,
        "--no-tui",
        "--output-format",
        "json",
        "-z",
        f"{max(1, round(seconds))}s",
        "-c",
        str(connections),
        "-q",
        f"{rate:g}",
        "--latency-correction",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _run(command: list[str], limit_seconds: float) -> tuple[str, float]:
    """Run a generator; its stdout, and the CPU seconds it used (from the kernel's
    accounting of reaped children)."""
    cpu_before = _children_cpu_seconds()
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    started = time.monotonic()
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), limit_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise LoadGeneratorError(
            f"{Path(command[0]).name} did not finish within {limit_seconds:.0f} s"
        ) from None
    except asyncio.CancelledError:  # an interrupted bench: no generator left loading
        process.kill()
        await process.wait()
        raise
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise LoadGeneratorError(
            f"{Path(command[0]).name} exited with {process.returncode} after {elapsed:.1f} s:\n"
            + stderr.decode(errors="replace")[-2000:]
        )
    return stdout.decode(errors="replace"), _children_cpu_seconds() - cpu_before


async def run_wrk(wrk: str, url: str, script: Path, connections: int, seconds: float) -> LoadResult:
    command = wrk_command(wrk, url, script, connections, seconds)
    stdout, cpu = await _run(command, seconds + 60)
    result = parse_wrk_output(stdout, connections)
    result.generator_cpu_seconds = cpu
    return result


async def run_oha(
    oha: str,
    url: str,
    rate: float,
    connections: int,
    seconds: float,
    headers: dict[str, str],
) -> LoadResult:
    command = oha_command(oha, url, rate, connections, seconds, headers)
    stdout, cpu = await _run(command, seconds + 60)
    result = parse_oha_json(stdout, connections, rate)
    result.generator_cpu_seconds = cpu
    return result
