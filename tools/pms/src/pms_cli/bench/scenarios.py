"""The bench's scenarios, in the order they run: each takes the ``BenchRun`` (its plan,
tools, target and measuring helpers) and returns its ``ScenarioResult``.

The read scenarios and the database ceiling run first, on the same table, so that
creates of this run do not change what they read; then the default page and a search at
100,000 patients (``read-100k``, its own database: :mod:`pms_cli.bench.scale`); the writes
follow.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pms_cli.bench import ceiling, client, lua, procs
from pms_cli.bench.client import LOGIN_PATH, PATIENTS_PATH
from pms_cli.bench.console_timing import CHROMIUM, measure_patient_list
from pms_cli.bench.events import run_events
from pms_cli.bench.figures import HALF_PEAK
from pms_cli.bench.idle import wait_until_quiet
from pms_cli.bench.loadgen import LoadResult, run_oha, run_wrk
from pms_cli.bench.plan import BenchOptions
from pms_cli.bench.replay import replay
from pms_cli.bench.run_context import BenchContext, kafka_bootstrap_servers, postgres_admin_url
from pms_cli.bench.scale import read_at_scale
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.bench.stats import fixed_rates_with_fractions
from pms_cli.bench.tools import find_pgbench
from pms_cli.infra.settings import load_settings

UPDATE_TARGETS = 20

Scenario = Callable[[BenchContext], Awaitable[ScenarioResult]]

FOREIGN_TARGET = "not measured (foreign target)"
NEEDS_OUR_PLATFORM = {
    "read-direct": "reads our patients service on its own port (give the target's own "
    "patients service with --patients-url)",
    "ceiling": "pgbench runs our platform's SQL on our database",
    "read-100k": "starts our patients service on a scratch database of ours",
    "events": "the lag is read from our analytics API",
    "replay": "replays our analytics service's topics",
    "console": "the web console is ours (served by our gateway at /)",
}
"""What a scenario needs of our platform's internals, beyond the public contract that a
foreign target (the original Java system) offers."""


def not_measured_on_foreign(name: str, options: BenchOptions) -> str | None:
    """The status of a scenario that cannot run against this foreign target, else None."""
    if not options.foreign_target or name not in NEEDS_OUR_PLATFORM:
        return None
    if name == "read-direct" and options.patients_url:
        return None
    return f"{FOREIGN_TARGET}: {NEEDS_OUR_PLATFORM[name]}"


async def _read_scenario(run: BenchContext, name: str, base_url: str, path: str) -> ScenarioResult:
    result = ScenarioResult(name)
    token = await run.token()
    result.extra["patients_in_table"] = await _patients_in_table(run, token)
    script = run.write_script(name, lua.get_script(path, token))
    for connections in run.plan.read_connections:
        result.runs.append(
            await run.wrk(result, base_url + path, script, connections, run.plan.seconds)
        )
    if run.tools.oha is not None and result.peak:
        where = "gateway" if name == "read" else "direct"
        result.rate_runs[where] = await _fixed_rates(
            run, result, base_url + path, token, result.peak
        )
    elif run.tools.oha is None:
        result.extra["fixed_rate"] = "skipped: oha not available"
    return result


async def _patients_in_table(run: BenchContext, token: str) -> int | None:
    async with httpx.AsyncClient(timeout=30.0) as http:
        return await client.patients_total(http, run.target, token)


async def _fixed_rates(
    run: BenchContext, result: ScenarioResult, url: str, token: str, peak: float
) -> list[LoadResult]:
    """oha at fractions of the closed-loop peak; always one at half of it, whose p99 the
    latency target reads, whatever the plan's other fractions."""
    runs = []
    assert run.tools.oha is not None
    oha = run.tools.oha
    fractions = {*run.plan.rate_fractions, HALF_PEAK}
    for rate, fraction in fixed_rates_with_fractions(peak, sorted(fractions), keep=HALF_PEAK):
        load = await run.measured(
            result,
            functools.partial(
                run_oha,
                oha,
                url,
                rate,
                run.plan.rate_connections,
                run.plan.seconds,
                {"Authorization": f"Bearer {token}"},
            ),
        )
        load.peak_fraction = fraction
        run.print_run(result.name, load)
        runs.append(load)
    return runs


async def read(run: BenchContext) -> ScenarioResult:
    base = run.options.target.rstrip("/")
    return await _read_scenario(run, "read", _origin(base), run.patients_path())


async def read_direct(run: BenchContext) -> ScenarioResult:
    direct = run.options.direct_patients_url
    if direct is None:
        return ScenarioResult(
            "read-direct", status="skipped: no patients service URL (--patients-url)"
        )
    return await _read_scenario(run, "read-direct", direct.rstrip("/"), "/patients")


async def database_ceiling(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("ceiling")
    postgres_url = postgres_admin_url(run)
    pgbench = find_pgbench(load_settings().postgres_bin_dir)
    if postgres_url is None:
        result.status = "skipped: no PostgreSQL URL for a remote target (--postgres-url)"
        return result
    if pgbench is None:
        result.status = "skipped: pgbench not found (install postgresql-client)"
        return result
    runs: dict[str, list[dict[str, Any]]] = {"read": [], "read_with_audit": [], "create": []}
    scripts = {
        "read": ceiling.READ_SCRIPT,
        "read_with_audit": ceiling.READ_WITH_AUDIT_SCRIPT,
        "create": ceiling.CREATE_SCRIPT,
    }
    for key, script in scripts.items():
        clients = run.plan.ceiling_clients if key == "read" else run.plan.ceiling_clients[-1:]
        for count in clients:
            outcome = await ceiling.run_pgbench(
                pgbench, postgres_url, script, count, run.plan.seconds
            )
            run.say(f"ceiling {key:<16} {count:>3} clients: {outcome.tps:9.1f} tps")
            runs[key].append(outcome.to_json())
    result.extra["pgbench"] = runs
    result.extra["rate"] = max(entry["tps"] for entry in runs["read"])
    result.extra["rate_with_audit"] = max(entry["tps"] for entry in runs["read_with_audit"])
    result.extra["rate_create"] = max(entry["tps"] for entry in runs["create"])
    result.extra["queries"] = ceiling.READ_SCRIPT
    result.extra["patients_in_table"] = await _patients_in_table(run, await run.token())
    return result


async def create(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("create")
    token = await run.token()
    # The run's warm-up only reads. Creates take other paths (the broker's produce and
    # fetch, billing, the consumers), and the broker's JVM runs them at about twice the
    # CPU until it has compiled them, so they get a warm-up of their own, not measured.
    warm = run.write_script(
        "create-warm", lua.create_script(run.patients_path(), token, f"{run.run_id}cw")
    )
    run.say(f"warming up ({run.plan.warmup_seconds:g} s of creates)")
    await run_wrk(run.tools.wrk, run.target.url(PATIENTS_PATH), warm, 16, run.plan.warmup_seconds)
    for connections in run.plan.create_connections:
        # A tag per wrk run: counters restart with each run, emails must not repeat.
        tag = f"{run.run_id}c{connections}"
        script = run.write_script(
            f"create-{connections}", lua.create_script(run.patients_path(), token, tag)
        )
        result.runs.append(
            await run.wrk(
                result,
                run.target.url(PATIENTS_PATH),
                script,
                connections,
                run.plan.seconds,
            )
        )
    return result


async def mixed(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("mixed")
    token = await run.token()
    async with httpx.AsyncClient(timeout=30.0) as http:
        targets = await client.create_patients(
            http, run.target, token, UPDATE_TARGETS, f"{run.run_id}m"
        )
    result.extra["mix"] = "80% GET default page, 15% POST unique, 5% PUT (20 patients in turn)"
    for connections in run.plan.mixed_connections:
        tag = f"{run.run_id}m{connections}"
        script = run.write_script(
            f"mixed-{connections}",
            lua.mixed_script(run.patients_path(), token, tag, targets),
        )
        result.runs.append(
            await run.wrk(
                result, run.target.url(PATIENTS_PATH), script, connections, run.plan.seconds
            )
        )
    return result


async def login(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("login")
    if run.platform is not None or not run.options.direct_auth_url:
        url = run.target.url(LOGIN_PATH)
        via = (
            "the gateway (login limits off)"
            if run.platform is not None
            else "the target's /auth/login (its login limits apply)"
        )
    else:
        url = run.options.direct_auth_url.rstrip("/") + "/login"
        via = "auth directly (port of the auth service: no gateway login limits)"
    result.extra["via"] = via
    result.extra["url"] = url
    path = httpx.URL(url).path
    script = run.write_script(
        "login", lua.login_script(path, run.options.user, run.options.password)
    )
    for connections in run.plan.login_connections:
        result.runs.append(await run.wrk(result, url, script, connections, run.plan.seconds))
    if not run.options.foreign_target:
        result.extra["note"] = (
            "password hashing dominates: argon2id (m=19 MiB, t=2) per login in a worker thread"
        )
    return result


STEADY_SHARE_OF_CREATE_PEAK = 0.8
"""Issue 15's events target: the lag while creating steadily at 80 % of the create peak."""
HALF_CREATE_PEAK = 0.5
"""Issue 15's create latency target: p99 (CO-corrected) at half the create peak."""
QUIET_WAIT_MAX_SECONDS = 30.0
"""How long each events rate waits for the platform to be quiet before it starts."""
EVENTS_RATE_WITHOUT_PEAK = 100.0


def cpu_ms_per_request(used: dict[str, float], requests: int) -> dict[str, float]:
    """Each process's CPU seconds over one run as milliseconds per request, and their sum
    as ``total`` (empty without requests): the figure of one events rate alone."""
    if requests <= 0:
        return {}
    per_process = {name: round(1000 * seconds / requests, 2) for name, seconds in used.items()}
    return {**per_process, "total": round(sum(per_process.values()), 2)}


def _create_peak(run: BenchContext) -> float | None:
    create = run.scenarios.get("create")
    return create.peak if create is not None and create.measured else None


def steady_events_rate(run: BenchContext) -> float:
    """``--events-rate``, else 80 % of this run's create peak (100/s without one)."""
    if run.options.events_rate is not None:
        return run.options.events_rate
    peak = _create_peak(run)
    return float(round(peak * STEADY_SHARE_OF_CREATE_PEAK)) if peak else EVENTS_RATE_WITHOUT_PEAK


def half_peak_create_rate(run: BenchContext) -> float | None:
    """Half of this run's create peak, for the create latency target (None: no peak)."""
    peak = _create_peak(run)
    return max(1.0, float(round(peak * HALF_CREATE_PEAK))) if peak else None


async def events(run: BenchContext) -> ScenarioResult:
    result = ScenarioResult("events")
    main_rate = steady_events_rate(run)
    half_rate = half_peak_create_rate(run)
    result.extra["create_peak_share"] = STEADY_SHARE_OF_CREATE_PEAK
    rates = sorted({*run.plan.events_extra_rates, main_rate, *([half_rate] if half_rate else [])})
    by_rate = []
    for rate in rates:
        waited = await wait_until_quiet(run.watched, QUIET_WAIT_MAX_SECONDS)
        run.say(f"events at {rate:g}/s: the platform was quiet after {waited:.1f} s")
        token = await run.token()
        before = procs.cpu_snapshot(run.watched)
        outcome = await run_events(
            run.target,
            token,
            rate,
            run.plan.events_seconds,
            kafka_bootstrap_servers(run),
            tag=f"{run.run_id}e{rate:g}",
        )
        after = procs.cpu_snapshot(run.watched)
        if not str(outcome["status"]).startswith("measured"):
            result.status = str(outcome["status"])
            return result
        used = {name: after[name] - before.get(name, 0.0) for name in after}
        result.add_cpu(used, int(outcome["created"]))
        outcome["cpu_ms_per_create"] = cpu_ms_per_request(used, int(outcome["created"]))
        lag = outcome["lag_ms"]
        run.say(
            f"events at {rate:g}/s: {outcome['achieved_rate']} creates/s kept up, lag p50 "
            f"{lag['p50']} ms, p99 {lag['p99']} ms (poll every {outcome['poll_period_ms']} ms)"
        )
        by_rate.append(outcome)
        if rate == half_rate:
            result.extra["half_create_peak"] = {
                "rate": rate,
                "achieved_rate": outcome["achieved_rate"],
                "create_latency_ms": outcome["create_latency_ms"],
                "failed": outcome["failed"],
            }
        if rate == main_rate:
            result.extra.update(outcome)
    result.extra["by_rate"] = by_rate
    return result


CONSOLE_NAVIGATIONS = 5


async def console(run: BenchContext) -> ScenarioResult:
    """The web console's patient list in Chromium: from a click on "Patients" to the list
    interactive (issue 18), several times, at the patients the table has."""
    result = ScenarioResult("console")
    if not CHROMIUM.exists():
        result.status = f"skipped: {CHROMIUM} not found (make browser installs it)"
        return result
    async with httpx.AsyncClient(timeout=30.0) as http:
        page = await http.get(run.target.url("/"))
    if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
        result.status = "skipped: the gateway serves no console at / (make console builds it)"
        return result
    result.extra["patients_in_table"] = await _patients_in_table(run, await run.token())
    milliseconds = await measure_patient_list(
        run.target.base_url, run.target.email, run.target.password, CONSOLE_NAVIGATIONS
    )
    result.extra["time_to_interactive_ms"] = [round(value, 1) for value in milliseconds]
    result.extra["measured_from"] = "click on the Patients section link (Performance API)"
    run.say(
        "console patient list interactive after "
        + ", ".join(f"{value:.0f}" for value in milliseconds)
        + " ms"
    )
    return result


SCENARIOS: tuple[tuple[str, Scenario], ...] = (
    ("read", read),
    ("read-direct", read_direct),
    ("ceiling", database_ceiling),
    ("read-100k", read_at_scale),
    ("create", create),
    ("mixed", mixed),
    ("login", login),
    ("events", events),
    ("replay", replay),
    ("console", console),
)
"""Every scenario by its name (``--only``), in the order they run."""


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_with(path="/", query=None, fragment=None)).rstrip("/")
