"""Running a long install step (``cargo install oha``: minutes of compiling) so that it
is never silent: a spinner with the elapsed time and cargo's latest line on a terminal,
otherwise (a log, CI) one line every ``PLAIN_EVERY_SECONDS``. The step runs in its own
process group, so that an interrupted bench ends the compilers too."""

import asyncio
import contextlib
import os
import signal
import time
from collections import deque

from rich.console import Console

PLAIN_EVERY_SECONDS = 30.0
TICK_SECONDS = 1.0
TAIL_LINES = 30


class StepFailedError(RuntimeError):
    """The command exited non-zero; the message ends with its last lines."""


def elapsed_text(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


class StepProgress:
    """What the step printed so far: its latest line and how many units it finished
    (for cargo: crates, its lines starting with ``Compiling``)."""

    def __init__(self, unit_prefix: str) -> None:
        self.unit_prefix = unit_prefix
        self.units = 0
        self.latest = ""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    def add(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        self.tail.append(line)
        self.latest = line
        if line.startswith(self.unit_prefix):
            self.units += 1

    def summary(self, label: str, seconds: float, unit_name: str) -> str:
        return f"{label}: {elapsed_text(seconds)} elapsed, {self.units} {unit_name} done" + (
            f" (last line: {self.latest[:80]})" if self.latest else ""
        )


async def run_step(
    console: Console,
    command: list[str],
    *,
    label: str,
    env: dict[str, str] | None = None,
    unit_prefix: str = "Compiling",
    unit_name: str = "crates",
) -> float:
    """Run ``command`` showing its progress; the seconds it took. Raises
    :class:`StepFailedError` when it fails; cancelled, it stops the whole step."""
    console.print(f"[bold]$ {' '.join(command)}[/bold]")
    progress = StepProgress(unit_prefix)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )

    async def read_lines() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            progress.add(raw.decode(errors="replace"))

    def status() -> str:
        return progress.summary(label, time.monotonic() - started, unit_name)

    reader = asyncio.create_task(read_lines())
    try:
        if console.is_terminal:
            with console.status(status()) as spinner:
                while not reader.done():
                    await asyncio.wait({reader}, timeout=TICK_SECONDS)
                    spinner.update(status())
        else:
            while not reader.done():
                await asyncio.wait({reader}, timeout=PLAIN_EVERY_SECONDS)
                if not reader.done():
                    console.print(status(), highlight=False)
        await reader
        returncode = await process.wait()
    except BaseException:
        reader.cancel()
        _stop_group(process)
        with contextlib.suppress(Exception):
            await process.wait()
        raise
    seconds = time.monotonic() - started
    if returncode != 0:
        raise StepFailedError(
            f"`{' '.join(command)}` failed with exit code {returncode} after "
            f"{elapsed_text(seconds)}:\n" + "\n".join(progress.tail)
        )
    return seconds


def _stop_group(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
