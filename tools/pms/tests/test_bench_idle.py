"""The idle CPU of the bench: a quiet window's CPU per process, and its line in the report."""

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pms_cli.bench.idle import idle_cpu_percent, idle_cpu_text, wait_until_quiet
from pms_cli.bench.procs import Watched
from pms_cli.bench.report import render_markdown


@contextmanager
def burning_cpu() -> Iterator[None]:
    """This process keeps a core busy (a thread spinning) until the block ends."""
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(range(1000))

    burner = threading.Thread(target=burn)
    burner.start()
    try:
        yield
    finally:
        stop.set()
        burner.join()


async def test_a_busy_process_shows_its_cpu_and_a_sleeping_one_none() -> None:
    sleeper = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        with burning_cpu():
            percent = await idle_cpu_percent(
                [Watched("busy", 0, (os.getpid(),)), Watched("asleep", 0, (sleeper.pid,))], 0.5
            )
    finally:
        sleeper.kill()
        await sleeper.wait()

    assert percent["busy"] > 0
    assert percent["asleep"] == 0.0


def _result(resources: dict[str, Any]) -> dict[str, Any]:
    return {"meta": {}, "scenarios": {"resources": {"status": "measured", **resources}}}


def test_the_report_gives_each_process_idle_cpu_and_the_window() -> None:
    result = _result(
        {"cpu_percent_idle": {"gateway": 0.1, "analytics": 0.25}, "idle_window_seconds": 30.0}
    )

    line = idle_cpu_text(result)

    assert line.startswith("Idle CPU (% of one core over 30.0 s without requests")
    assert line.endswith(": gateway 0.10, analytics 0.25.")
    assert line in render_markdown(result)


def test_the_report_says_when_idle_cpu_was_not_measured() -> None:
    assert idle_cpu_text(_result({})) == "Idle CPU: not measured."


async def test_the_wait_for_quiet_ends_as_soon_as_a_window_is_quiet() -> None:
    sleeper = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        waited = await wait_until_quiet([Watched("asleep", 0, (sleeper.pid,))], 5.0, 0.1)
    finally:
        sleeper.kill()
        await sleeper.wait()

    assert waited < 1.0  # the first window was quiet


async def test_the_wait_for_quiet_gives_up_after_its_longest_wait_while_busy() -> None:
    with burning_cpu():
        waited = await wait_until_quiet([Watched("busy", 0, (os.getpid(),))], 0.5, 0.1)

    assert waited >= 0.5  # every window was busier than QUIET_PERCENT: it waited them all
