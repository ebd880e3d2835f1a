"""Long install steps show progress, and an interrupted run cleans up: real child
processes (``sh``), a real signal to this process."""

import asyncio
import io
import os
import signal
from pathlib import Path

import pytest
from rich.console import Console

from pms_cli.bench import progress
from pms_cli.bench.interrupts import BenchInterruptedError, run_until_signal
from pms_cli.bench.progress import StepFailedError, run_step


def _plain_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


async def test_a_long_step_prints_its_elapsed_time_and_units_done_while_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "PLAIN_EVERY_SECONDS", 0.2)
    console, out = _plain_console()
    script = "echo '   Compiling one v1'; echo '   Compiling two v1'; sleep 1; echo done"
    seconds = await run_step(console, ["sh", "-c", script], label="building thing")
    assert seconds > 0
    assert "building thing: 0:00 elapsed, 2 crates done (last line: Compiling two v1)" in (
        out.getvalue()
    )


async def test_a_failed_step_says_its_exit_code_and_last_lines() -> None:
    console, _ = _plain_console()
    with pytest.raises(StepFailedError, match=r"(?s)exit code 3 .*no linker found"):
        await run_step(console, ["sh", "-c", "echo 'no linker found'; exit 3"], label="x")


async def test_a_cancelled_step_leaves_no_process_of_its_group(tmp_path: Path) -> None:
    console, _ = _plain_console()
    pid_file = tmp_path / "pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    step = asyncio.create_task(run_step(console, ["sh", "-c", script], label="x"))
    for _ in range(600):  # the child writes the sleeper's PID once it started it
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    step.cancel()
    with pytest.raises(asyncio.CancelledError):
        await step
    sleeper = int(pid_file.read_text())
    for _ in range(100):  # SIGKILL is asynchronous; the orphan is reaped by init
        if not _alive(sleeper):
            break
        await asyncio.sleep(0.05)
    assert not _alive(sleeper)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_cancels_the_run_which_cleans_up_then_exits_with_143() -> None:
    cleaned: list[str] = []

    async def bench_run() -> str:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(30)
            return "finished"
        finally:
            await asyncio.sleep(0)  # the cleanup may await (stopping the services)
            cleaned.append("platform stopped")

    with pytest.raises(BenchInterruptedError) as interrupted:
        run_until_signal(bench_run())
    assert cleaned == ["platform stopped"]
    assert interrupted.value.exit_code == 128 + signal.SIGTERM
    assert interrupted.value.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
