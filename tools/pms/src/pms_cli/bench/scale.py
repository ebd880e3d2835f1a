"""Scenario ``read-100k``: the default page and a search at 100,000 patients.

The normal read scenarios read the platform's own table (about 1,000 patients); how the
read path grows with the table is measured here, on a scratch database of its own
(:mod:`pms_cli.bench.scale_db`, never ``pms_patients``). A second patients process serves
it on a free port: the same code and settings as the platform's, its background workers
off (nothing to relay or retry, and no work of theirs in the figures), the demo seed off,
verifying tokens with the platform's auth keys, so the bench's token works as it does for
``read-direct``. wrk then sends

- the default page (``GET /patients``, the very request of ``read-direct``) at 16
  connections: its CPU per request in this process, compared with ``read-direct``'s at
  the normal table size, says how the page's cost grows with the table;
- a search (``GET /patients?search=Okonkwo``: 2 % of the rows match by name and email) at
  one connection, so its latency percentiles are the search's own, without queueing.

The process is stopped at the end (by its PID, gracefully first), the database is kept
for the next run.
"""

import asyncio
import os
import socket
import time
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

import httpx

from pms_cli.bench import lua, procs
from pms_cli.bench.loadgen import run_wrk
from pms_cli.bench.run_context import BenchContext, kafka_bootstrap_servers, postgres_admin_url
from pms_cli.bench.scale_db import (
    SCALE_PATIENTS,
    SCRATCH_DATABASE,
    SEARCH_TERM,
    prepare_scratch_database,
)
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.infra.paths import state_dir
from pms_cli.service_processes import RunningService, stop_services
from pms_cli.services import service_named

NAME = "read-100k"
READY_TIMEOUT_SECONDS = 60.0
READY_POLL_SECONDS = 0.1
JWKS_PATH = "/.well-known/jwks.json"
PAGE_PATH = "/patients"
SEARCH_PATH = f"/patients?search={quote(SEARCH_TERM)}"


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scratch_environment(port: int, database_url: str, kafka: str, jwks_url: str) -> dict[str, str]:
    """The settings of the scratch patients process, over the launcher's environment."""
    prefix = service_named("patients").env_prefix
    return {
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka,
        f"{prefix}AUTH_JWKS_URL": jwks_url,
        f"{prefix}BACKGROUND_WORKERS": "false",
        f"{prefix}SEED_DEMO_PATIENTS": "false",
    }


class ScratchPatients:
    """A second patients service process on the scratch database."""

    def __init__(self, environment: dict[str, str], port: int) -> None:
        self.spec = service_named("patients")
        self.environment = environment
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.service: RunningService | None = None
        self.log: TextIO | None = None
        self.watched: list[procs.Watched] = []

    async def start(self) -> float:
        """Launch it and wait for ``/health/ready``; the seconds that took."""
        log_path = state_dir() / "logs" / f"patients-{NAME}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log_path.open("a", encoding="utf-8")
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *self.spec.command("serve"),
            env={**os.environ, **self.environment},
            stdout=self.log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self.service = RunningService(self.spec, process, style="")
        await self._wait_ready(process, started, log_path)
        # Its workers too, should the service ever fork several.
        self.watched = procs.watch({"patients": self.port}) or [
            procs.Watched("patients", self.port, (process.pid,))
        ]
        return time.monotonic() - started

    async def _wait_ready(
        self, process: asyncio.subprocess.Process, started: float, log: Path
    ) -> None:
        async with httpx.AsyncClient(timeout=1.0) as http:
            while time.monotonic() - started < READY_TIMEOUT_SECONDS:
                if process.returncode is not None:
                    raise RuntimeError(f"the scratch patients service exited; see {log}")
                try:
                    if (await http.get(self.base_url + "/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(READY_POLL_SECONDS)
        raise RuntimeError(f"the scratch patients service was not ready in time; see {log}")

    async def stop(self) -> None:
        if self.service is not None:
            await stop_services([self.service])
            self.service = None
        if self.log is not None:
            self.log.close()
            self.log = None


async def _total(http: httpx.AsyncClient, url: str, token: str) -> int | None:
    response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    total = response.headers.get("X-Total-Count")
    return int(total) if total and total.isdigit() else None


async def read_at_scale(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult(NAME)
    admin_url = postgres_admin_url(run)
    kafka = kafka_bootstrap_servers(run)
    auth = run.options.direct_auth_url
    if admin_url is None or kafka is None or auth is None:
        result.status = "skipped: needs the local platform (its PostgreSQL, Kafka and auth)"
        return result
    run.say(f"preparing {SCRATCH_DATABASE} ({SCALE_PATIENTS:,} patients seeded through SQL)")
    database = await prepare_scratch_database(admin_url)
    run.say(
        f"{database.name}: {database.patients:,} patients, "
        + (f"seeded (it held {database.found})" if database.seeded else "reused")
        + f" in {database.prepare_seconds:.1f} s"
    )
    result.extra["database"] = database.to_json()
    result.extra["patients_in_table"] = database.patients
    prefix = service_named("patients").env_prefix
    jwks = os.environ.get(f"{prefix}AUTH_JWKS_URL") or auth.rstrip("/") + JWKS_PATH
    port = free_port()
    service = ScratchPatients(scratch_environment(port, database.service_url, kafka, jwks), port)
    try:
        result.extra["ready_seconds"] = round(await service.start(), 2)
        await _measure(run, result, service)
    finally:
        await service.stop()
    return result


async def _measure(run: BenchContext, result: ScenarioResult, service: ScratchPatients) -> None:
    token = await run.token()
    async with httpx.AsyncClient(timeout=30.0) as http:
        result.extra["patients_listed"] = await _total(
            http, service.base_url + PAGE_PATH + "?size=1", token
        )
        matches = await _total(http, service.base_url + SEARCH_PATH, token)
    # The platform's own patients process is idle meanwhile: this one stands in its column.
    watched = [w for w in run.watched if w.name != "patients"] + service.watched
    result.extra["process"] = {
        "port": service.port,
        "pids": [pid for w in service.watched for pid in w.pids],
    }
    seconds, warmup = run.plan.seconds, run.plan.warmup_seconds
    page_url = service.base_url + PAGE_PATH
    page = run.write_script(NAME, lua.get_script(PAGE_PATH, token))
    await run_wrk(run.tools.wrk, page_url, page, max(run.plan.scale_connections), warmup)
    for connections in run.plan.scale_connections:
        result.runs.append(await run.wrk(result, page_url, page, connections, seconds, watched))
    search = ScenarioResult(f"{NAME} search")
    search_url = service.base_url + SEARCH_PATH
    script = run.write_script(f"{NAME}-search", lua.get_script(SEARCH_PATH, token))
    await run_wrk(run.tools.wrk, search_url, script, run.plan.search_connections, warmup)
    search.runs.append(
        await run.wrk(search, search_url, script, run.plan.search_connections, seconds, watched)
    )
    result.extra["search"] = {"term": SEARCH_TERM, "matches": matches, **search.to_json()}
    result.extra["patients_rss_mb_after_load"] = round(sum(w.rss_mb() for w in service.watched), 1)
