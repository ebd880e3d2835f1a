"""``--profile``: where the CPU time and the memory of the services go.

- CPU: py-spy samples the services by PID (100 Hz, only the thread holding the GIL)
  while wrk reads through the gateway (gateway and patients), then while it creates
  (gateway, patients, billing, analytics), 16 connections each; the collapsed stacks
  are kept, and summarised as the share of samples whose innermost frame is in each
  package (where the CPU is actually spent) and the busiest functions.
- Imports: for each service, the resident memory and CPU time of a fresh interpreter
  after importing its app module, and what each big library adds alone to a bare
  interpreter: which imports make up the idle RSS and the cold start.
"""

import asyncio
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pms_cli.bench import lua
from pms_cli.bench.client import PATIENTS_PATH
from pms_cli.bench.loadgen import run_wrk
from pms_cli.bench.report import markdown_table
from pms_cli.bench.run_context import BenchContext
from pms_cli.bench.tools import py_spy_command

LIBRARIES = (
    "asyncio",
    "ssl",
    "fastapi",
    "pydantic",
    "sqlalchemy.ext.asyncio",
    "asyncpg",
    "aiokafka",
    "grpc",
    "aiohttp",
    "httpx",
    "uvicorn",
    "structlog",
    "rich",
    "prometheus_client",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "jwt",
    "google.protobuf.message",
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
PROBE = (
    "import importlib, sys, time\n"
    "for name in sys.argv[1:]:\n"
    "    importlib.import_module(name)\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmRSS:'):\n"
    "        print(int(line.split()[1]) * 1024 / 1e6, time.process_time())\n"
)


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's ``--format raw`` (one ``frame;frame;... count`` per line, root first)."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def package_of(frame: str) -> str:
    """The top-level package (or stdlib module) of a py-spy frame ``fn (path:line)``."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    if "site-packages/" in path:
        path = path.rsplit("site-packages/", 1)[1]
    elif "/src/" in path:
        path = path.rsplit("/src/", 1)[1]
    elif "/python3." in path:
        path = path.rsplit("/python3.", 1)[1].partition("/")[2]
    first = path.lstrip("/").split("/", 1)[0]
    return first.removesuffix(".py") or path


def function_of(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    return f"{match['function']} ({match['file'].rsplit('site-packages/', 1)[-1]})"


def summarize_stacks(stacks: Iterable[tuple[list[str], int]], top: int = 12) -> dict[str, Any]:
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        if not frames:
            continue
        total += count
        by_package[package_of(frames[-1])] += count
        by_function[function_of(frames[-1])] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(n / total * 100, 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "self_by_package_percent": shares(by_package) if total else [],
        "self_by_function_percent": shares(by_function) if total else [],
    }


def _after_imports(modules: list[str]) -> tuple[float, float]:
    """RSS (MB) and CPU seconds of a fresh interpreter after importing ``modules``."""
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", PROBE, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rss, cpu = result.stdout.split()
    return float(rss), float(cpu)


def _cost(modules: list[str], bare: tuple[float, float]) -> dict[str, float | None]:
    try:
        rss, cpu = _after_imports(modules)
    except (subprocess.CalledProcessError, ValueError):
        return {"rss_mb": None, "cpu_seconds": None}
    return {"rss_mb": round(rss - bare[0], 1), "cpu_seconds": round(cpu - bare[1], 2)}


def import_costs() -> dict[str, Any]:
    bare = _after_imports([])
    app = {}
    for name in ("gateway", "auth", "patients", "billing", "analytics"):
        cost = _cost([f"pms_{name}.app"], (0.0, 0.0))
        app[name] = cost
    return {
        "bare_interpreter_mb": round(bare[0], 1),
        "app": app,
        "library": {module: _cost([module], bare) for module in LIBRARIES},
    }


async def _py_spy(command: list[str], pid: int, seconds: float, output: Path) -> str | None:
    process = await asyncio.create_subprocess_exec(
        *command,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--gil",  # only the thread holding the GIL: Python's CPU time, not idle threads
        "--format",
        "raw",
        "--output",
        str(output),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    text, _ = await process.communicate()
    if process.returncode != 0:
        return text.decode(errors="replace")[-500:]
    return None


@dataclass(frozen=True)
class Phase:
    """One profiled load: which services py-spy samples while wrk sends what."""

    name: str
    services: tuple[str, ...]
    description: str


PHASES = (
    Phase("read", ("gateway", "patients"), "GET /api/patients through the gateway, 16 connections"),
    Phase(
        "create",
        ("gateway", "patients", "billing", "analytics"),
        "POST /api/patients through the gateway, 16 connections (billing and analytics "
        "work on each create's gRPC call and events)",
    ),
)


async def _profile_phase(
    run: BenchContext, phase: Phase, command: list[str], token: str
) -> dict[str, Any]:
    pids = {w.name: w.pids[0] for w in run.watched if w.name in phase.services}
    if not pids:
        return {"status": "skipped: the services are not on this machine"}
    seconds = run.plan.profile_seconds
    if phase.name == "read":
        script_text = lua.get_script(run.patients_path(), token)
    else:
        script_text = lua.create_script(run.patients_path(), token, f"{run.run_id}p")
    script = run.write_script(f"profile-{phase.name}", script_text)
    out_dir = run.options.out_dir
    outputs = {name: out_dir / f"{run.stem}-pyspy-{phase.name}-{name}.txt" for name in pids}
    spies = [
        asyncio.create_task(_py_spy(command, pid, seconds, outputs[name]))
        for name, pid in pids.items()
    ]
    await asyncio.sleep(1.0)  # py-spy attaches (and uvx may fetch it) first
    load = await run_wrk(run.tools.wrk, run.target.url(PATIENTS_PATH), script, 16, seconds + 1)
    errors = await asyncio.gather(*spies)
    result: dict[str, Any] = {"description": phase.description, "load": load.to_json()}
    for (name, path), error in zip(outputs.items(), errors, strict=True):
        if error is not None or not path.exists():
            result[name] = f"failed: {error}"
            continue
        stacks = parse_collapsed(path.read_text())
        result[name] = {"collapsed_stacks": str(path), **summarize_stacks(stacks)}
    return result


async def profile_services(run: BenchContext) -> dict[str, Any]:
    run.say("[bold]profiling[/bold] (py-spy under reads and under creates; imports)")
    result: dict[str, Any] = {}
    command = py_spy_command()
    run.options.out_dir.mkdir(parents=True, exist_ok=True)
    if command is None:
        result["cpu"] = "skipped: py-spy not available"
    else:
        token = await run.token()
        result["cpu"] = {
            phase.name: await _profile_phase(run, phase, command, token) for phase in PHASES
        }
    result["imports"] = await asyncio.to_thread(import_costs)
    result["markdown"] = profile_markdown(result)
    return result


def _cpu_markdown(phase: str, data: dict[str, Any]) -> list[str]:
    parts = [f"### CPU under {data.get('description', phase)}", ""]
    for name, summary in data.items():
        if name in ("description", "load"):
            continue
        if not isinstance(summary, dict):
            parts += [f"{name}: {summary}", ""]
            continue
        packages = ", ".join(f"{p} {s} %" for p, s in summary["self_by_package_percent"])
        parts += [
            f"**{name}** ({summary['samples']} samples holding the GIL), self time by "
            f"package: {packages}.",
            "",
            markdown_table(
                ["busiest functions (self time)", "% of samples"],
                [[f, f"{s}"] for f, s in summary["self_by_function_percent"][:8]],
            ),
            "",
        ]
    return parts


def profile_markdown(profile: dict[str, Any]) -> str:
    parts: list[str] = []
    cpu = profile.get("cpu")
    if isinstance(cpu, dict):
        for phase, data in cpu.items():
            if isinstance(data, dict):
                parts += _cpu_markdown(phase, data)
            else:
                parts += [f"{phase}: {data}", ""]
    elif cpu:
        parts += [f"CPU profile: {cpu}", ""]
    imports = profile.get("imports", {})
    if imports:
        parts += [
            "### Memory and start-up time of the imports",
            "",
            f"A bare interpreter: {imports['bare_interpreter_mb']} MB. Importing a service's "
            "app module in a fresh interpreter (before any connection or request):",
            "",
            markdown_table(
                ["service", "RSS after import MB", "import CPU s"],
                [
                    [k, str(v.get("rss_mb")), str(v.get("cpu_seconds"))]
                    for k, v in imports["app"].items()
                ],
            ),
            "",
            "What each library adds on its own to a bare interpreter (overlapping: "
            "shared dependencies are counted in each):",
            "",
            markdown_table(
                ["library", "MB", "import CPU s"],
                [
                    [k, str(v.get("rss_mb")), str(v.get("cpu_seconds"))]
                    for k, v in imports["library"].items()
                ],
            ),
            "",
        ]
    return "\n".join(parts)
