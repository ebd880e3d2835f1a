"""One bench run: platform, warm-up, scenarios in order, results on disk.

The read scenarios and the database ceiling run first, on the same table, so that
creates of this run do not change what they read; the writes follow.
"""

import asyncio
import contextlib
import functools
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from pms_cli.bench import ceiling, client, lua, procs
from pms_cli.bench.cleanup import delete_bench_patients
from pms_cli.bench.client import LOGIN_PATH, PATIENTS_PATH, Target
from pms_cli.bench.events import run_events
from pms_cli.bench.loadgen import LoadResult, run_oha, run_wrk
from pms_cli.bench.machine import describe_machine, tool_version
from pms_cli.bench.plan import BenchOptions
from pms_cli.bench.platform_control import BenchPlatform, ColdStart, gateway_ready
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.bench.stats import fixed_rates
from pms_cli.bench.tools import Tools, ensure_oha, ensure_wrk, find_pgbench
from pms_cli.infra.settings import load_settings
from pms_cli.infra.urls import local_postgres_url
from pms_cli.services import SERVICES

SETUP_CONCURRENCY = 16
UPDATE_TARGETS = 20
SETTLE_SECONDS = 1.0


class BenchRun:
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

    async def _measured(
        self, scenario: ScenarioResult, run: Callable[[], Awaitable[LoadResult]]
    ) -> LoadResult:
        """Run one load, with the CPU each watched process spent meanwhile. A pause
        first, so that the work queued by the previous run is finished (the server goes
        on with the requests in flight when a generator stops)."""
        await asyncio.sleep(SETTLE_SECONDS)
        before = procs.cpu_snapshot(self.watched)
        result = await run()
        after = procs.cpu_snapshot(self.watched)
        cpu = {name: after[name] - before.get(name, 0.0) for name in after}
        scenario.add_cpu(cpu, result.requests)
        result.notes.extend(_status_notes(result))
        return result

    def _print_run(self, label: str, result: LoadResult) -> None:
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

    async def _wrk(
        self, scenario: ScenarioResult, url: str, script: Path, connections: int, seconds: float
    ) -> LoadResult:
        result = await self._measured(
            scenario, lambda: run_wrk(self.tools.wrk, url, script, connections, seconds)
        )
        self._print_run(scenario.name, result)
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
        options = self.options
        if await gateway_ready(options.target):
            self.meta["platform"] = "already running (its own settings; rate limits may apply)"
        elif options.target_is_default_gateway and options.start_platform:
            self.say("the platform is not running: starting it")
            self.platform = BenchPlatform(self.console)
            self.cold_start = await self.platform.start()
            self.meta["platform"] = "started by the bench (gateway rate limits off)"
        else:
            raise RuntimeError(f"nothing ready at {options.target}/health/ready")

    async def _prepare(self) -> None:
        options = self.options
        await self._ensure_platform()
        self.tools = Tools(
            wrk=ensure_wrk(self.console),
            oha=(
                ensure_oha(self.console, install=options.install_oha)
                if options.wants("read") or options.wants("read-direct")
                else None
            ),
        )
        self.meta["tools"] = {
            "wrk": tool_version(self.tools.wrk, "-v"),
            "oha": tool_version(self.tools.oha, "--version"),
        }
        if options.target_is_local:
            self.watched = procs.watch(self._watched_ports(), with_children=["postgres"])
            self.meta["watched_processes"] = {w.name: list(w.pids) for w in self.watched}
        if options.wants("resources"):
            self.scenarios["resources"] = self._resources_start()
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

    def _watched_ports(self) -> dict[str, int]:
        settings = load_settings()
        ports = {spec.name: spec.http_port for spec in SERVICES}
        ports["postgres"] = settings.postgres_port
        ports["kafka"] = settings.kafka_port
        return ports

    def _rss(self) -> dict[str, float]:
        return {w.name: round(w.rss_mb(), 1) for w in self.watched if w.name not in _INFRA}

    def _resources_start(self) -> ScenarioResult:
        result = ScenarioResult("resources")
        if not self.watched:
            result.status = "skipped: the target's processes are not on this machine"
            return result
        result.extra["rss_mb_idle"] = self._rss()
        result.extra["cold_start"] = (
            self.cold_start.to_json()
            if self.cold_start is not None
            else {"status": "skipped: the platform was already running (not started by the bench)"}
        )
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
        steps: list[tuple[str, Callable[[], Awaitable[ScenarioResult]]]] = [
            ("read", self._read),
            ("read-direct", self._read_direct),
            ("ceiling", self._ceiling),
            ("create", self._create),
            ("mixed", self._mixed),
            ("login", self._login),
            ("events", self._events),
        ]
        for name, step in steps:
            if not self.options.wants(name):
                continue
            self.say(f"[bold]scenario {name}[/bold]")
            try:
                self.scenarios[name] = await step()
            except Exception as error:  # one broken scenario must not lose the others
                self.console.print(f"[red]scenario {name} failed: {error}[/red]")
                self.scenarios[name] = ScenarioResult(name, status=f"failed: {error}")
        if self.options.profile:
            from pms_cli.bench.profiling import profile_services

            self.profile = await profile_services(self)

    async def _read_scenario(self, name: str, base_url: str, path: str) -> ScenarioResult:
        result = ScenarioResult(name)
        token = await self.token()
        script = self.write_script(name, lua.get_script(path, token))
        for connections in self.plan.read_connections:
            result.runs.append(
                await self._wrk(result, base_url + path, script, connections, self.plan.seconds)
            )
        if self.tools.oha is not None and result.peak:
            where = "gateway" if name == "read" else "direct"
            result.rate_runs[where] = await self._fixed_rates(
                result, base_url + path, token, result.peak
            )
        elif self.tools.oha is None:
            result.extra["fixed_rate"] = "skipped: oha not available"
        return result

    async def _fixed_rates(
        self, result: ScenarioResult, url: str, token: str, peak: float
    ) -> list[LoadResult]:
        runs = []
        assert self.tools.oha is not None
        oha = self.tools.oha
        for rate in fixed_rates(peak, self.plan.rate_fractions):
            run = await self._measured(
                result,
                functools.partial(
                    run_oha,
                    oha,
                    url,
                    rate,
                    self.plan.rate_connections,
                    self.plan.seconds,
                    {"Authorization": f"Bearer {token}"},
                ),
            )
            self._print_run(result.name, run)
            runs.append(run)
        return runs

    async def _read(self) -> ScenarioResult:
        base = self.options.target.rstrip("/")
        return await self._read_scenario("read", _origin(base), self.patients_path())

    async def _read_direct(self) -> ScenarioResult:
        direct = self.options.direct_patients_url
        if direct is None:
            return ScenarioResult(
                "read-direct", status="skipped: no patients service URL (--patients-url)"
            )
        return await self._read_scenario("read-direct", direct.rstrip("/"), "/patients")

    async def _ceiling(self) -> ScenarioResult:
        result = ScenarioResult("ceiling")
        postgres_url = self._postgres_url()
        pgbench = find_pgbench(load_settings().postgres_bin_dir)
        if postgres_url is None:
            result.status = "skipped: no PostgreSQL URL for a remote target (--postgres-url)"
            return result
        if pgbench is None:
            result.status = "skipped: pgbench not found (install postgresql-client)"
            return result
        runs: dict[str, list[dict[str, Any]]] = {"read": [], "read_with_audit": []}
        scripts = {"read": ceiling.READ_SCRIPT, "read_with_audit": ceiling.READ_WITH_AUDIT_SCRIPT}
        for key, script in scripts.items():
            clients = self.plan.ceiling_clients if key == "read" else self.plan.ceiling_clients[-1:]
            for count in clients:
                outcome = await ceiling.run_pgbench(
                    pgbench, postgres_url, script, count, self.plan.seconds
                )
                self.say(f"ceiling {key:<16} {count:>3} clients: {outcome.tps:9.1f} tps")
                runs[key].append(outcome.to_json())
        result.extra["pgbench"] = runs
        result.extra["rate"] = max(run["tps"] for run in runs["read"])
        result.extra["rate_with_audit"] = max(run["tps"] for run in runs["read_with_audit"])
        result.extra["queries"] = ceiling.READ_SCRIPT
        return result

    def _kafka(self) -> str | None:
        """The platform's broker, to see when events reach it (local targets only)."""
        if not self.options.target_is_local:
            return None
        if self.platform is not None and self.platform.endpoints is not None:
            return self.platform.endpoints.kafka_bootstrap_servers
        settings = load_settings()
        return settings.external_kafka_bootstrap_servers or f"127.0.0.1:{settings.kafka_port}"

    def _postgres_url(self) -> str | None:
        if self.options.postgres_url:
            return self.options.postgres_url
        if not self.options.target_is_local:
            return None
        if self.platform is not None and self.platform.endpoints is not None:
            return self.platform.endpoints.postgres_url
        external = load_settings().external_postgres_url
        return external or local_postgres_url(load_settings().postgres_port)

    async def _create(self) -> ScenarioResult:
        result = ScenarioResult("create")
        token = await self.token()
        for connections in self.plan.create_connections:
            # A tag per wrk run: counters restart with each run, emails must not repeat.
            tag = f"{self.run_id}c{connections}"
            script = self.write_script(
                f"create-{connections}", lua.create_script(self.patients_path(), token, tag)
            )
            result.runs.append(
                await self._wrk(
                    result,
                    self.target.url(PATIENTS_PATH),
                    script,
                    connections,
                    self.plan.seconds,
                )
            )
        return result

    async def _mixed(self) -> ScenarioResult:
        result = ScenarioResult("mixed")
        token = await self.token()
        async with httpx.AsyncClient(timeout=30.0) as http:
            targets = await client.create_patients(
                http, self.target, token, UPDATE_TARGETS, f"{self.run_id}m"
            )
        result.extra["mix"] = "80% GET default page, 15% POST unique, 5% PUT (20 patients in turn)"
        for connections in self.plan.mixed_connections:
            tag = f"{self.run_id}m{connections}"
            script = self.write_script(
                f"mixed-{connections}",
                lua.mixed_script(self.patients_path(), token, tag, targets),
            )
            result.runs.append(
                await self._wrk(
                    result, self.target.url(PATIENTS_PATH), script, connections, self.plan.seconds
                )
            )
        return result

    async def _login(self) -> ScenarioResult:
        result = ScenarioResult("login")
        if self.platform is not None or not self.options.direct_auth_url:
            url = self.target.url(LOGIN_PATH)
            via = (
                "the gateway (login limits off)"
                if self.platform is not None
                else "the target's /auth/login (its login limits apply)"
            )
        else:
            url = self.options.direct_auth_url.rstrip("/") + "/login"
            via = "auth directly (port of the auth service: no gateway login limits)"
        result.extra["via"] = via
        result.extra["url"] = url
        path = httpx.URL(url).path
        script = self.write_script(
            "login", lua.login_script(path, self.options.user, self.options.password)
        )
        for connections in self.plan.login_connections:
            result.runs.append(await self._wrk(result, url, script, connections, self.plan.seconds))
        result.extra["note"] = (
            "password hashing dominates: argon2id (m=19 MiB, t=2) per login in a worker thread"
        )
        return result

    async def _events(self) -> ScenarioResult:
        result = ScenarioResult("events")
        main_rate = self.options.events_rate
        rates = sorted({*self.plan.events_extra_rates, main_rate})
        by_rate = []
        for rate in rates:
            token = await self.token()
            before = procs.cpu_snapshot(self.watched)
            outcome = await run_events(
                self.target,
                token,
                rate,
                self.plan.events_seconds,
                self._kafka(),
                tag=f"{self.run_id}e{rate:g}",
            )
            after = procs.cpu_snapshot(self.watched)
            if not str(outcome["status"]).startswith("measured"):
                result.status = str(outcome["status"])
                return result
            result.add_cpu(
                {name: after[name] - before.get(name, 0.0) for name in after},
                int(outcome["created"]),
            )
            lag = outcome["lag_ms"]
            self.say(
                f"events at {rate:g}/s: {outcome['achieved_rate']} creates/s kept up, lag p50 "
                f"{lag['p50']} ms, p99 {lag['p99']} ms (poll every {outcome['poll_period_ms']} ms)"
            )
            by_rate.append(outcome)
            if rate == main_rate:
                result.extra.update(outcome)
        result.extra["by_rate"] = by_rate
        return result


_INFRA = {"postgres", "kafka"}


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def _status_notes(result: LoadResult) -> Iterator[str]:
    bad = {code: n for code, n in result.statuses.items() if not code.startswith("2")}
    if bad:
        yield "non-2xx " + ", ".join(f"{code}x{n}" for code, n in bad.items())
    if "429" in bad:
        yield "rate limited: start the target with its per-user/login limits off"
    if result.errors:
        yield f"{result.errors} socket errors/timeouts"
