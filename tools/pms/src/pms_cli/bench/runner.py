"""One bench run: the platform (started when needed), the tools, the patients topped up,
a warm-up, the scenarios of ``scenarios`` in order, the run's metadata; and the helpers
the scenarios measure with (a load with the CPU it cost, a printed line per load)."""

import asyncio
import contextlib
import dataclasses
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from pms_cli.bench import client, lua, procs
from pms_cli.bench.cleanup import delete_bench_patients
from pms_cli.bench.client import LOGIN_PATH, PATIENTS_PATH, Target
from pms_cli.bench.idle import record_idle_cpu
from pms_cli.bench.loadgen import LoadResult, run_wrk
from pms_cli.bench.machine import describe_machine, tool_version
from pms_cli.bench.plan import LOCAL_HOSTS, BenchOptions, our_ports
from pms_cli.bench.platform_control import (
    BenchPlatform,
    ColdStart,
    foreign_target_ready,
    gateway_ready,
)
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.bench.scenarios import FOREIGN_TARGET, SCENARIOS, not_measured_on_foreign
from pms_cli.bench.tools import Tools, ensure_oha, ensure_wrk
from pms_cli.infra.settings import load_settings

SETUP_CONCURRENCY = 16
SETTLE_SECONDS = 1.0


class BenchRun:
    """One run of ``pms bench`` (or ``--purge``), and what the scenarios share."""

    def __init__(self, options: BenchOptions, console: Console) -> None:
        self.options = options
        self.plan = options.plan
        self.console = console
        self.target = Target(options.target, options.user, options.password)
        self.run_id = uuid.uuid4().hex[:8]
        suffix = "-quick" if options.quick else ""
        self.stem = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + suffix
        self.scenarios: dict[str, ScenarioResult] = {}
        self.meta: dict[str, Any] = {}
        self.watched: list[procs.Watched] = []
        self.platform: BenchPlatform | None = None
        self.cold_start: ColdStart | None = None
        self.tools = Tools(wrk="wrk", oha=None)
        self.scripts = Path(tempfile.mkdtemp(prefix="pms-bench-"))
        self.profile: dict[str, Any] | None = None

    # ----------------------------------------------------------------- helpers
    def say(self, message: str) -> None:
        self.console.print(f"[cyan]bench[/cyan] {message}")

    def write_script(self, name: str, text: str) -> Path:
        path = self.scripts / f"{name}.lua"
        path.write_text(text)
        path.chmod(0o600)
        return path

    async def token(self) -> str:
        async with httpx.AsyncClient(timeout=30.0) as http:
            return await client.login(
                http, self.target.url(LOGIN_PATH), self.options.user, self.options.password
            )

    async def measured(
        self,
        scenario: ScenarioResult,
        run: Callable[[], Awaitable[LoadResult]],
        watched: list[procs.Watched] | None = None,
    ) -> LoadResult:
        """Run one load, with the CPU each watched process (``watched``, by default the
        platform's) spent meanwhile. A pause first, so that the work queued by the
        previous run is finished (the server goes on with the requests in flight when a
        generator stops)."""
        processes = self.watched if watched is None else watched
        await asyncio.sleep(SETTLE_SECONDS)
        before = procs.cpu_snapshot(processes)
        result = await run()
        after = procs.cpu_snapshot(processes)
        cpu = {name: after[name] - before.get(name, 0.0) for name in after}
        result.cpu_seconds = cpu
        scenario.add_cpu(cpu, result.requests)
        result.notes.extend(_status_notes(result))
        return result

    def print_run(self, label: str, result: LoadResult) -> None:
        load = (
            f"{result.target_rate:g} req/s"
            if result.target_rate is not None
            else f"{result.connections} conn"
        )
        p99 = result.latency_ms.get("p99", float("nan"))
        self.say(
            f"{label:<12} {load:>12}: {result.ok_rate:8.1f} ok/s  "
            f"p50 {result.latency_ms.get('p50', float('nan')):7.2f} ms  p99 {p99:8.2f} ms"
            + (f"  [{'; '.join(result.notes)}]" if result.notes else "")
        )

    async def wrk(
        self,
        scenario: ScenarioResult,
        url: str,
        script: Path,
        connections: int,
        seconds: float,
        watched: list[procs.Watched] | None = None,
    ) -> LoadResult:
        result = await self.measured(
            scenario, lambda: run_wrk(self.tools.wrk, url, script, connections, seconds), watched
        )
        self.print_run(scenario.name, result)
        return result

    # --------------------------------------------------------------- the run
    async def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        self.meta = {
            "started_at": started.isoformat(timespec="seconds"),
            "mode": "quick" if self.options.quick else "full",
            "target": self.options.target,
            "run_id": self.run_id,
            "machine": describe_machine(),
            "load_average_before": procs.load_average(),
        }
        try:
            await self._prepare()
            await self._scenarios()
            if self.options.cleanup:
                await self._cleanup(self.run_id)
        finally:
            self.meta["load_average_after"] = procs.load_average()
            if "resources" in self.scenarios and self.watched:
                self.scenarios["resources"].extra["rss_mb_after_load"] = self._rss()
            if self.platform is not None:
                self.say("stopping the services the bench started")
                await self.platform.stop()
            with contextlib.suppress(OSError):
                for path in self.scripts.iterdir():
                    path.unlink()
                self.scripts.rmdir()
        finished = datetime.now(UTC)
        self.meta["finished_at"] = finished.isoformat(timespec="seconds")
        self.meta["duration_seconds"] = round((finished - started).total_seconds(), 1)
        return {
            "meta": self.meta,
            "scenarios": {name: result.to_json() for name, result in self.scenarios.items()},
            "profile": self.profile,
        }

    async def _ensure_platform(self) -> None:
        """Ours if ``/health/ready`` answers 200; started when nothing listens on our
        gateway's port; otherwise a foreign target, ready when a login and the list work."""
        options = self.options
        if await gateway_ready(options.target):
            self.meta["platform"] = "already running (its own settings; rate limits may apply)"
            return
        port = httpx.URL(options.target).port
        free = port is None or not procs.ports_listening([port])
        if options.target_is_default_gateway and options.start_platform and free:
            self.say("the platform is not running: starting it")
            self.platform = BenchPlatform(self.console)
            await self.platform.start()
            self.cold_start = self.platform.cold_start
            self.meta["platform"] = "started by the bench (gateway rate limits off)"
            return
        self.say(f"no /health/ready at {options.target}: checking it with a login and a list")
        await foreign_target_ready(self.target)
        self.options = dataclasses.replace(options, foreign_target=True)
        self.meta["platform"] = (
            "foreign (no /health/ready; ready: a login and GET /api/patients answered 200)"
        )

    async def _prepare(self) -> None:
        options = self.options
        await self._ensure_platform()
        self.tools = Tools(
            wrk=await ensure_wrk(self.console),
            oha=(
                await ensure_oha(self.console, install=options.install_oha)
                if options.wants("read") or options.wants("read-direct")
                else None
            ),
        )
        self.meta["tools"] = {
            "wrk": tool_version(self.tools.wrk, "-v"),
            "oha": tool_version(self.tools.oha, "--version"),
        }
        self.watched = self._watch()
        self.meta["watched_processes"] = {w.name: list(w.pids) for w in self.watched}
        if options.wants("resources"):
            self.scenarios["resources"] = self._resources_start()
            await record_idle_cpu(self)
        await self._top_up_patients()
        await self._warm_up()

    async def purge(self) -> None:
        """Delete every non-seed patient the bench registered (any run), then stop what
        was started for it."""
        try:
            await self._ensure_platform()
            await self._cleanup("")
        finally:
            if self.platform is not None:
                await self.platform.stop()

    async def _cleanup(self, search: str) -> None:
        what = "this run's patients" if search == self.run_id else "every bench patient"
        self.say(f"deleting {what} through the API (seed patients are kept)")
        outcome = await delete_bench_patients(self.target, await self.token(), search)
        self.meta["cleanup"] = {
            "deleted": outcome.deleted,
            "failed": outcome.failed,
            "seconds": round(outcome.seconds, 1),
        }
        self.say(f"deleted {outcome.deleted} patients in {outcome.seconds:.0f} s")

    def _watch(self) -> list[procs.Watched]:
        """The processes named by ``--watch-port``/``--watch-pid``; for our own local
        platform also, by default, those behind its ports, PostgreSQL's and Kafka's. A
        foreign target's processes are only known when named."""
        options = self.options
        given = procs.watch_given(options.watch_ports, options.watch_pids)
        if options.foreign_target or not options.target_is_local:
            return given
        named = {w.name for w in given}
        found = procs.watch(self._watched_ports(), with_children=["postgres"])
        return [w for w in found if w.name not in named] + given

    def _watched_ports(self) -> dict[str, int]:
        settings = load_settings()
        specs = self.platform.specs if self.platform is not None else our_ports().services
        ports = {spec.name: spec.http_port for spec in specs}
        # A local platform on other ports: the URLs given say where its services listen.
        given = {
            "gateway": self.options.target,
            "patients": self.options.direct_patients_url,
            "auth": self.options.direct_auth_url,
        }
        for name, url in given.items():
            parsed = httpx.URL(url) if url else None
            if parsed is not None and parsed.host in LOCAL_HOSTS and parsed.port:
                ports[name] = parsed.port
        ports["postgres"] = settings.postgres_port
        ports["kafka"] = settings.kafka_port
        return ports

    def _rss(self) -> dict[str, float]:
        return {w.name: round(w.rss_mb(), 1) for w in self.watched if w.name not in _INFRA}

    def _resources_start(self) -> ScenarioResult:
        result = ScenarioResult("resources")
        foreign = self.options.foreign_target
        if not self.watched:
            result.status = (
                f"{FOREIGN_TARGET}: name its processes with --watch-port NAME=PORT or "
                "--watch-pid NAME=PID"
                if foreign
                else "skipped: the target's processes are not on this machine"
            )
            return result
        result.extra["rss_mb_idle"] = self._rss()
        if self.cold_start is not None:
            result.extra["cold_start"] = self.cold_start.to_json()
        elif foreign:
            result.extra["cold_start"] = {
                "status": f"{FOREIGN_TARGET}: only for a platform the bench starts itself"
            }
        else:
            result.extra["cold_start"] = {
                "status": "skipped: the platform was already running (not started by the bench)"
            }
        return result

    async def _top_up_patients(self) -> None:
        token = await self.token()
        async with httpx.AsyncClient(timeout=30.0) as http:
            total = await client.patients_total(http, self.target, token)
            missing = self.options.min_patients - (total or 0)
            if total is not None and missing > 0:
                self.say(
                    f"{total} patients: registering {missing} more, so a page reads 50 of "
                    f"{self.options.min_patients}"
                )
                gate = asyncio.Semaphore(SETUP_CONCURRENCY)

                async def one(index: int) -> None:
                    async with gate:
                        await client.create_patients(http, self.target, token, 1, f"seed-{index}")

                await asyncio.gather(*(one(i) for i in range(missing)))
                total = await client.patients_total(http, self.target, token)
        self.meta["patients_in_table"] = total

    async def _warm_up(self) -> None:
        seconds = self.plan.warmup_seconds
        self.say(f"warming up ({seconds:g} s of reads per endpoint)")
        token = await self.token()
        script = self.write_script("warm", lua.get_script(self.patients_path(), token))
        await run_wrk(self.tools.wrk, self.target.url(PATIENTS_PATH), script, 16, seconds)
        direct = self.options.direct_patients_url
        if direct and self.options.wants("read-direct"):
            script = self.write_script("warm-direct", lua.get_script("/patients", token))
            await run_wrk(self.tools.wrk, direct + "/patients", script, 16, seconds)

    def patients_path(self) -> str:
        return self.target.path_prefix + PATIENTS_PATH

    # ------------------------------------------------------------ scenarios
    async def _scenarios(self) -> None:
        for name, step in SCENARIOS:
            if not self.options.wants(name):
                continue
            skipped = not_measured_on_foreign(name, self.options)
            if skipped is not None:
                self.say(f"scenario {name}: {skipped}")
                self.scenarios[name] = ScenarioResult(name, status=skipped)
                continue
            self.say(f"[bold]scenario {name}[/bold]")
            load = [round(value, 2) for value in procs.load_average()]
            try:
                self.scenarios[name] = await step(self)
                self.scenarios[name].extra.setdefault("load_average_at_start", load)
            except Exception as error:  # one broken scenario must not lose the others
                self.console.print(f"[red]scenario {name} failed: {error}[/red]")
                self.scenarios[name] = ScenarioResult(name, status=f"failed: {error}")
        if self.options.profile and self.options.foreign_target:
            self.profile = {"status": f"{FOREIGN_TARGET}: py-spy samples our Python services"}
        elif self.options.profile:
            from pms_cli.bench.profiling import profile_services

            self.profile = await profile_services(self)


_INFRA = {"postgres", "kafka"}


def _status_notes(result: LoadResult) -> Iterator[str]:
    bad = {code: n for code, n in result.statuses.items() if not code.startswith("2")}
    if bad:
        yield "non-2xx " + ", ".join(f"{code}x{n}" for code, n in bad.items())
    if "429" in bad:
        yield "rate limited: start the target with its per-user/login limits off"
    if result.errors:
        yield f"{result.errors} socket errors/timeouts"
