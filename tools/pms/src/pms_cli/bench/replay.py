"""Scenario ``replay``: ``python -m pms_analytics rebuild`` over everything the platform's
``patient`` and ``billing`` topics hold by then (the bench's own creates included): the
analytics service empties its aggregates and replays both topics from the beginning,
safely while it runs. The figure is the events applied per second of the rebuild, as
the rebuild itself reports them. Local targets only (it needs the database and the
broker)."""

import asyncio
import json
import os
import time
from typing import Any

from pms_cli.bench.run_context import BenchContext, kafka_bootstrap_servers, postgres_admin_url
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.infra.paths import state_dir
from pms_cli.services import service_named

FINISHED = "rebuild finished"


def rebuild_figures(output: str) -> dict[str, Any] | None:
    """The rebuild's last ``rebuild finished`` line: events handled, seconds, events/s."""
    finished = None
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == FINISHED:
            finished = entry
    if finished is None:
        return None
    events = sum(int(finished.get(key, 0)) for key in ("applied", "duplicate", "dead_lettered"))
    seconds = float(finished.get("seconds", 0.0))
    return {
        "events": events,
        "applied": int(finished.get("applied", 0)),
        "seconds": seconds,
        "events_per_second": round(events / seconds, 1) if seconds > 0 else None,
    }


async def replay(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("replay")
    postgres_url, kafka = postgres_admin_url(run), kafka_bootstrap_servers(run)
    if postgres_url is None or kafka is None:
        result.status = "skipped: a remote target (the rebuild needs its database and broker)"
        return result
    spec = service_named("analytics")
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *spec.command("rebuild"),
        env={**os.environ, **spec.environment(postgres_url, kafka, state_dir())},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:  # an interrupted bench leaves no rebuild running
        process.kill()
        await process.wait()
        raise
    text = output.decode(errors="replace")
    figures = rebuild_figures(text) if process.returncode == 0 else None
    if figures is None:
        result.status = f"failed: the rebuild exited with {process.returncode}"
        result.extra["output_tail"] = text[-2000:]
        return result
    result.extra.update(figures, wall_seconds=round(time.monotonic() - started, 2))
    run.say(
        f"replay: {figures['events']:,} events in {figures['seconds']} s "
        f"({figures['events_per_second']} events/s)"
    )
    return result
