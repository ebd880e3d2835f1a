"""Idle CPU: what each watched process uses while nobody sends it anything, measured in a
quiet window before the load scenarios (part of ``resources``).

An idle service should cost next to nothing (issue 17): its outbox relay waits for
``NOTIFY``, its consumers for the broker, its retry loops back off. The figure is
``utime + stime`` from ``/proc/<pid>/stat`` over the window, as a percentage of one
core; PostgreSQL's includes its backends. A settling pause comes first, so that the
start-up's work (consumers joining their group, the relays' first looks) is over.
"""

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pms_cli.bench import figures, procs

if TYPE_CHECKING:
    from pms_cli.bench.runner import BenchRun

SETTLE_SECONDS = 5.0
WINDOW_SECONDS = {"quick": 10.0, "full": 30.0}


async def idle_cpu_percent(watched: list[procs.Watched], window_seconds: float) -> dict[str, float]:
    """Each process's CPU over the next ``window_seconds``, in % of one core."""
    before = procs.cpu_snapshot(watched)
    started = time.monotonic()
    await asyncio.sleep(window_seconds)
    after = procs.cpu_snapshot(watched)
    elapsed = time.monotonic() - started
    return {name: round(100 * (after[name] - before.get(name, 0.0)) / elapsed, 3) for name in after}


QUIET_PERCENT = 20.0
"""The platform is quiet when all its processes together use less than this much of one
core (idle it uses about 1 %; the tail of a load run, draining backlogs, far more)."""


async def wait_until_quiet(
    watched: list[procs.Watched], max_seconds: float, window_seconds: float = 1.0
) -> float:
    """Wait until a ``window_seconds`` window in which the ``watched`` processes together
    used less than :data:`QUIET_PERCENT` of a core (or ``max_seconds`` passed); the seconds
    waited. A steady-rate run that starts while the previous run's backlog (consumers
    catching up, autovacuum) still drains would measure that backlog, not its own rate."""
    started = time.monotonic()
    while time.monotonic() - started < max_seconds:
        percent = await idle_cpu_percent(watched, window_seconds)
        if sum(percent.values()) < QUIET_PERCENT:
            break
    return time.monotonic() - started


async def record_idle_cpu(run: "BenchRun") -> None:
    """Measure the idle CPU of the run's watched processes into its ``resources``."""
    resources = run.scenarios.get("resources")
    if resources is None or not run.watched:
        return
    window = WINDOW_SECONDS["quick" if run.options.quick else "full"]
    run.say(f"idle CPU: {SETTLE_SECONDS:g} s to settle, then {window:g} s without requests")
    await asyncio.sleep(SETTLE_SECONDS)
    percent = await idle_cpu_percent(run.watched, window)
    resources.extra["cpu_percent_idle"] = percent
    resources.extra["idle_window_seconds"] = window
    run.say("idle CPU (% of a core): " + ", ".join(f"{k} {v:.2f}" for k, v in percent.items()))


def idle_cpu_text(results: dict[str, Any]) -> str:
    """One line for the report under the resources table."""
    resources = figures.scenario(results, "resources")
    percent = resources.get("cpu_percent_idle")
    if not percent:
        return "Idle CPU: not measured."
    window = resources.get("idle_window_seconds", "?")
    each = ", ".join(f"{name} {value:.2f}" for name, value in percent.items())
    return (
        f"Idle CPU (% of one core over {window} s without requests, before any load, "
        f"{SETTLE_SECONDS:g} s after the platform was ready): {each}."
    )
