"""The targets of issue 14 and those of issue 15 the bench measures (CPU per create, the
events lag, mixed against read), and issue 18's console patient list, each with its
figure from a JSON-shaped result and a verdict: met, missed, or not measured."""

import statistics
from dataclasses import dataclass
from typing import Any

from pms_cli.bench import figures
from pms_cli.bench.figures import number

DIRECT_SHARE_OF_CEILING_TARGET = 0.60  # of the page + count + audit insert, pgbench
GATEWAY_SHARE_TARGET = 0.85  # of read-direct
HALF_PEAK_P99_TARGET_MS = 15.0  # gateway read, CO-corrected, at 50 % of its peak rate
MIN_OK_FRACTION = 0.99  # a latency of failed requests is no latency of the read
SCALE_CPU_RATIO_TARGET = 2.0  # default page at 100,000 patients / at 1,000
SEARCH_P50_TARGET_MS = 10.0  # ?search= at 100,000 patients
RSS_TARGET_MB = 60.0
COLD_START_TARGET_SECONDS = 2.5
EVENTS_P99_TARGET_MS = 200.0  # at 80 % of the create peak
CREATE_SHARE_OF_CEILING_TARGET = 0.25  # of pgbench's rate for the create's SQL
REPLAY_RATE_TARGET = 5000.0  # events/s of `pms analytics rebuild`
CREATE_CPU_TARGET_MS = 8.0  # all processes: services, PostgreSQL, the broker
CREATE_HALF_PEAK_P99_TARGET_MS = 40.0  # CO-corrected, at half the create peak
MIXED_SHARE_TARGET = 0.6  # mixed 80/15/5 peak / read peak (through the gateway)
CONSOLE_INTERACTIVE_TARGET_MS = 1000.0  # the console's patient list, slowest navigation
CONSOLE_PATIENTS = 1000


@dataclass(frozen=True)
class TargetCheck:
    name: str
    figure: str
    threshold: str
    met: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "figure": self.figure,
            "threshold": self.threshold,
            "met": self.met,
        }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def _size(patients: int | None) -> str:
    return "?" if patients is None else f"{patients:,}"


def _status(results: dict[str, Any], *names: str) -> str:
    """Why a figure is missing: the status of the first scenario that was not measured."""
    for name in names:
        data = figures.scenario(results, name)
        if not figures.measured(data):
            return f"{name}: {data.get('status', 'not run')}"
    return "not measured"


def _share(
    name: str, part: float | None, whole: float | None, target: float, missing: str
) -> TargetCheck:
    value = None if part is None or whole is None or whole <= 0 else part / whole
    figure = missing if value is None else f"{_percent(value)} ({part:,.0f} vs {whole:,.0f}/s)"
    return TargetCheck(name, figure, f">= {target:.0%}", None if value is None else value >= target)


def _ceiling_check(results: dict[str, Any]) -> TargetCheck:
    return _share(
        "read-direct vs database ceiling with the audit insert",
        figures.peak(results, "read-direct"),
        figures.ceiling_rate(results, "rate_with_audit"),
        DIRECT_SHARE_OF_CEILING_TARGET,
        _status(results, "read-direct", "ceiling"),
    )


def _gateway_check(results: dict[str, Any]) -> TargetCheck:
    return _share(
        "read through the gateway vs read-direct",
        figures.peak(results, "read"),
        figures.peak(results, "read-direct"),
        GATEWAY_SHARE_TARGET,
        _status(results, "read", "read-direct"),
    )


def _half_peak_check(results: dict[str, Any]) -> TargetCheck:
    name = "gateway read p99 at 50 % of its peak rate (CO-corrected)"
    threshold = f"<= {HALF_PEAK_P99_TARGET_MS:g} ms"
    run = figures.half_peak_run(results)
    p99 = number(run.get("latency_ms", {}).get("p99")) if run else None
    if run is None or p99 is None:
        data = figures.scenario(results, "read")
        why = data.get("fixed_rate", "no run at 50 % of the peak")
        missing = str(why) if figures.measured(data) else _status(results, "read")
        return TargetCheck(name, missing, threshold, None)
    ok = number(run.get("ok_fraction")) or 0.0
    figure = f"{p99:.1f} ms at {run.get('target_rate', 0):g}/s"
    if ok < 1.0:
        figure += f" ({ok * 100:.1f} % 2xx)"
    return TargetCheck(
        name, figure, threshold, p99 <= HALF_PEAK_P99_TARGET_MS and ok >= MIN_OK_FRACTION
    )


def _scale_cpu_check(results: dict[str, Any]) -> TargetCheck:
    cpu = figures.scale_cpu(results)
    normal_size = figures.patients_in_table(results, "read-direct")
    scale_size = figures.patients_in_table(results, figures.SCALE_SCENARIO)
    name = "default page CPU per request, 100,000 / 1,000 patients (patients process)"
    threshold = f"<= {SCALE_CPU_RATIO_TARGET:g}x"
    value, at_scale, normal = cpu["ratio"], cpu["at_scale"], cpu["normal"]
    if value is None or at_scale is None or normal is None:
        return TargetCheck(
            name, _status(results, figures.SCALE_SCENARIO, "read-direct"), threshold, None
        )
    figure = (
        f"{value:.2f}x ({at_scale:.2f} ms at {_size(scale_size)} vs {normal:.2f} ms at "
        f"{_size(normal_size)} patients)"
    )
    return TargetCheck(name, figure, threshold, value <= SCALE_CPU_RATIO_TARGET)


def _search_check(results: dict[str, Any]) -> TargetCheck:
    size = figures.patients_in_table(results, figures.SCALE_SCENARIO)
    name = "search (?search=) p50 at 100,000 patients"
    threshold = f"<= {SEARCH_P50_TARGET_MS:g} ms"
    run = figures.search_at_scale(results)
    latency = run.get("latency_ms", {}) if run else {}
    p50, p99 = number(latency.get("p50")), number(latency.get("p99"))
    if run is None or p50 is None:
        return TargetCheck(name, _status(results, figures.SCALE_SCENARIO), threshold, None)
    ok = number(run.get("ok_fraction")) or 0.0
    matches = run.get("matches")
    figure = (
        f"{p50:.1f} ms (p99 {p99 or 0:.1f} ms; {run.get('connections')} connection; "
        + (f"{matches:,} of {_size(size)} match" if isinstance(matches, int) else "")
        + (f"; {ok * 100:.1f} % 2xx" if ok < 1.0 else "")
        + ")"
    )
    return TargetCheck(
        name, figure, threshold, p50 <= SEARCH_P50_TARGET_MS and ok >= MIN_OK_FRACTION
    )


def _events_check(results: dict[str, Any]) -> TargetCheck:
    events = figures.scenario(results, "events")
    p99 = number(events.get("lag_ms", {}).get("p99")) if figures.measured(events) else None
    if p99 is not None:
        figure = f"{p99:.0f} ms at {events.get('achieved_rate')} creates/s"
        met: bool | None = p99 < EVENTS_P99_TARGET_MS and not events.get("never_counted")
    else:
        figure, met = events.get("status", "not run"), None
    return TargetCheck(
        "events lag p99 (201 -> counted by analytics)",
        figure,
        f"<= {EVENTS_P99_TARGET_MS:.0f} ms at 80 % of the create peak",
        met,
    )


def _create_ceiling_check(results: dict[str, Any]) -> TargetCheck:
    return _share(
        "create peak vs database ceiling of the create's SQL",
        figures.peak(results, "create"),
        figures.ceiling_rate(results, "rate_create"),
        CREATE_SHARE_OF_CEILING_TARGET,
        _status(results, "create", "ceiling"),
    )


def _create_cpu_check(results: dict[str, Any]) -> TargetCheck:
    """At the create peak: the closed-loop run with the most connections (at one
    connection nothing is batched, so the figure of that run is given beside it)."""
    name = "CPU per create, all processes (services, PostgreSQL, Kafka)"
    threshold = f"<= {CREATE_CPU_TARGET_MS:g} ms at the create peak"
    create = figures.scenario(results, "create")
    runs = [run for run in create.get("runs", []) if run.get("target_rate") is None]
    per_run = [
        (
            int(run.get("connections", 0)),
            {
                process: value
                for process, raw in run.get("cpu_seconds_per_1000_requests", {}).items()
                if (value := number(raw)) is not None
            },
        )
        for run in runs
    ]
    per_run = [(connections, cpu) for connections, cpu in per_run if cpu]
    if not figures.measured(create) or not per_run:
        return TargetCheck(name, _status(results, "create"), threshold, None)
    connections, peak_cpu = max(per_run, key=lambda item: item[0])
    total = sum(peak_cpu.values())
    figure = (
        f"{total:.1f} ms at {connections} connections ("
        + ", ".join(f"{k} {v:.2f}" for k, v in peak_cpu.items())
        + ")"
    )
    others = [f"{sum(cpu.values()):.1f} ms at {n}" for n, cpu in per_run if n != connections]
    if others:
        figure += "; " + ", ".join(others)
    return TargetCheck(name, figure, threshold, total <= CREATE_CPU_TARGET_MS)


def _create_latency_check(results: dict[str, Any]) -> TargetCheck:
    name = "create p99 at 50 % of the create peak (CO-corrected)"
    threshold = f"<= {CREATE_HALF_PEAK_P99_TARGET_MS:g} ms"
    events = figures.scenario(results, "events")
    half = events.get("half_create_peak", {}) if figures.measured(events) else {}
    p99 = number(half.get("create_latency_ms", {}).get("p99"))
    if p99 is None:
        return TargetCheck(name, _status(results, "create", "events"), threshold, None)
    failed = sum(half.get("failed", {}).values())
    figure = f"{p99:.1f} ms at {half.get('rate'):g}/s" + (f" ({failed} failed)" if failed else "")
    return TargetCheck(
        name, figure, threshold, p99 <= CREATE_HALF_PEAK_P99_TARGET_MS and not failed
    )


def _replay_check(results: dict[str, Any]) -> TargetCheck:
    name = "analytics replay (pms analytics rebuild)"
    threshold = f">= {REPLAY_RATE_TARGET:,.0f} events/s"
    replay = figures.scenario(results, "replay")
    rate = number(replay.get("events_per_second")) if figures.measured(replay) else None
    if rate is None:
        return TargetCheck(name, _status(results, "replay"), threshold, None)
    figure = f"{rate:,.0f} events/s ({replay.get('events'):,} events in {replay.get('seconds')} s)"
    return TargetCheck(name, figure, threshold, rate >= REPLAY_RATE_TARGET)


def _mixed_check(results: dict[str, Any]) -> TargetCheck:
    mixed, read = figures.peak(results, "mixed"), figures.peak(results, "read")
    return _share(
        "mixed 80/15/5 peak vs read peak",
        mixed,
        read,
        MIXED_SHARE_TARGET,
        _status(results, "mixed", "read"),
    )


def _rss_check(results: dict[str, Any]) -> TargetCheck:
    resources = figures.scenario(results, "resources")
    idle = resources.get("rss_mb_idle", {}) if figures.measured(resources) else {}
    threshold = f"<= {RSS_TARGET_MB:.0f} MB each"
    if not idle:
        return TargetCheck("idle RSS per service", _status(results, "resources"), threshold, None)
    worst = max(idle, key=lambda name: idle[name])
    return TargetCheck(
        "idle RSS per service",
        f"max {idle[worst]:.0f} MB ({worst}); "
        + ", ".join(f"{k} {v:.0f}" for k, v in idle.items()),
        threshold,
        all(value <= RSS_TARGET_MB for value in idle.values()),
    )


def _cold_start_check(results: dict[str, Any]) -> TargetCheck:
    resources = figures.scenario(results, "resources")
    cold = resources.get("cold_start", {}) if figures.measured(resources) else {}
    name = "cold start (launch of all five -> every /health/ready 200)"
    threshold = f"<= {COLD_START_TARGET_SECONDS:g} s"
    all_ready = number(cold.get("all_ready_seconds"))
    if all_ready is None:
        status = cold.get("status") if cold else _status(results, "resources")
        return TargetCheck(name, str(status or "not measured"), threshold, None)
    return TargetCheck(
        name, f"{all_ready:.2f} s", threshold, all_ready <= COLD_START_TARGET_SECONDS
    )


def _console_check(results: dict[str, Any]) -> TargetCheck:
    """Issue 18's: every navigation to the patient list interactive within 1 s, with at
    least 1,000 patients in the table."""
    name = f"console patient list interactive at {CONSOLE_PATIENTS:,} patients"
    threshold = f"<= {CONSOLE_INTERACTIVE_TARGET_MS / 1000:g} s"
    console = figures.scenario(results, "console")
    timings = [
        value
        for raw in console.get("time_to_interactive_ms", [])
        if (value := number(raw)) is not None
    ]
    if not figures.measured(console) or not timings:
        return TargetCheck(name, _status(results, "console"), threshold, None)
    patients = console.get("patients_in_table")
    slowest = max(timings)
    figure = (
        f"{slowest:.0f} ms slowest of {len(timings)} (median {statistics.median(timings):.0f} ms)"
        f" at {_size(patients)} patients"
    )
    enough = isinstance(patients, int) and patients >= CONSOLE_PATIENTS
    return TargetCheck(
        name, figure, threshold, (slowest <= CONSOLE_INTERACTIVE_TARGET_MS) if enough else None
    )


def check_targets(results: dict[str, Any]) -> list[TargetCheck]:
    """Every target, in the order of issue 14's table, then issue 15's."""
    return [
        _ceiling_check(results),
        _gateway_check(results),
        _half_peak_check(results),
        _scale_cpu_check(results),
        _search_check(results),
        _rss_check(results),
        _cold_start_check(results),
        _create_ceiling_check(results),
        _create_cpu_check(results),
        _events_check(results),
        _create_latency_check(results),
        _replay_check(results),
        _mixed_check(results),
        _console_check(results),
    ]
