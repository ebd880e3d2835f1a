"""Starting, watching and stopping the services as child processes of the launcher."""

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx
from rich.console import Console

from pms_cli.log_lines import readable_line, readable_view_wanted
from pms_cli.services import ServiceSpec

PREFIX_STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red")
STOP_TIMEOUT_SECONDS = 15.0


class ServiceStartError(RuntimeError):
    """A service exited or never became ready; the message says which and shows its log."""


@dataclass
class RunningService:
    spec: ServiceSpec
    process: asyncio.subprocess.Process
    style: str
    recent_lines: deque[str] = field(default_factory=lambda: deque(maxlen=30))
    log_task: asyncio.Task[None] | None = None


async def _pump_output(
    service: RunningService, console: Console, log_file: TextIO, echo: bool
) -> None:
    """Copy the child's output to its log file and to the console: at a terminal as short
    readable lines (library chatter left out), elsewhere as the JSON lines themselves."""
    assert service.process.stdout is not None
    readable = readable_view_wanted(console.is_terminal)
    # Not at a terminal (a file, a pipe, CI) the line goes out as it is: rich's rendering
    # costs about 65 us a line, a quarter of a core at a loaded platform's 2,000 lines/s.
    prefix = f"{service.spec.name:>9} | "
    async for raw in service.process.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        service.recent_lines.append(line)
        log_file.write(line + "\n")
        log_file.flush()
        if not echo:
            continue
        if not readable:
            console.file.write(prefix + line + "\n")
            console.file.flush()
        elif (shown := readable_line(line, service.spec.name, service.style)) is not None:
            console.print(shown, soft_wrap=True, highlight=False)


def _open_log(log_dir: Path, name: str) -> TextIO:
    log_dir.mkdir(parents=True, exist_ok=True)
    return (log_dir / f"{name}.log").open("a", encoding="utf-8")


async def run_to_completion(spec: ServiceSpec, action: str, env: dict[str, str]) -> None:
    """Run a one-shot command of a service (``migrate``) and fail loudly if it fails."""
    process = await asyncio.create_subprocess_exec(
        *spec.command(action),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        tail = "\n".join(output.decode(errors="replace").splitlines()[-20:])
        raise ServiceStartError(f"`{spec.name} {action}` failed:\n{tail}")


async def start_service(
    spec: ServiceSpec,
    env: dict[str, str],
    console: Console,
    log_dir: Path,
    index: int,
    echo: bool = True,
) -> RunningService:
    # A session of its own: Ctrl-C in the terminal reaches only the launcher, which then
    # stops the services in order (gracefully) instead of all at once.
    process = await asyncio.create_subprocess_exec(
        *spec.command("serve"),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    service = RunningService(spec, process, PREFIX_STYLES[index % len(PREFIX_STYLES)])
    log_file = await asyncio.to_thread(_open_log, log_dir, spec.name)

    async def pump_then_close() -> None:
        try:
            await _pump_output(service, console, log_file, echo)
        finally:
            log_file.close()

    service.log_task = asyncio.create_task(pump_then_close())
    return service


async def wait_until_ready(services: list[RunningService], timeout_seconds: float) -> None:
    """Poll every ``/health/ready`` until all answer 200; fail fast if a service exits."""
    deadline = time.monotonic() + timeout_seconds
    pending = {service.spec.name: service for service in services}
    async with httpx.AsyncClient(timeout=2.0) as client:
        while pending:
            for name, service in list(pending.items()):
                if service.process.returncode is not None:
                    raise ServiceStartError(
                        f"{name} exited with code {service.process.returncode}:\n"
                        + "\n".join(service.recent_lines)
                    )
                try:
                    response = await client.get(f"{service.spec.base_url}/health/ready")
                except httpx.TransportError:
                    continue
                if response.status_code == 200:
                    del pending[name]
            if time.monotonic() > deadline:
                raise ServiceStartError("not ready in time: " + ", ".join(sorted(pending)))
            await asyncio.sleep(0.2)


async def stop_services(services: list[RunningService]) -> None:
    """SIGTERM (graceful: finish in-flight work), then SIGKILL whatever is left."""
    for service in reversed(services):
        if service.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGTERM)
    for service in services:
        try:
            await asyncio.wait_for(service.process.wait(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
            await service.process.wait()
        if service.log_task is not None:
            await service.log_task
