"""The figures a run produced, as targets checked, a Markdown page and files on disk.

Everything here reads the JSON-shaped result only, so a saved ``.json`` can be
rendered again (``pms bench --render FILE``) and the functions are tested without load.
"""

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pms_cli.bench.figures import (
    SCALE_SCENARIO,
    ceiling_rate,
    half_peak_run,
    key_ratios,
    patients_in_table,
    peak,
    scale_cpu,
    search_at_scale,
)
from pms_cli.bench.figures import measured as _measured
from pms_cli.bench.figures import scenario as _scenario
from pms_cli.bench.idle import idle_cpu_text
from pms_cli.bench.targets import check_targets

CPU_COLUMNS = ("gateway", "auth", "patients", "billing", "analytics", "postgres", "kafka")
CPU_SCENARIOS = ("read", "read-direct", SCALE_SCENARIO, "create", "mixed", "login", "events")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def _number(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def markdown_table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A GitHub Markdown table; ``|`` inside a cell is escaped."""
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rows:
        cells = [str(cell).replace("|", "\\|") for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _run_row(label: str, run: dict[str, Any], patients: int | None = None) -> list[str]:
    if run.get("target_rate") is not None:
        load = f"{run['target_rate']:g} req/s fixed"
    else:
        load = f"{run['connections']} conn"
    latency = run.get("latency_ms", {})
    notes = "; ".join(run.get("notes", []))
    return [
        label,
        load,
        "-" if patients is None else f"{patients:,}",
        _number(run.get("ok_rate")),
        f"{run.get('ok_fraction', 0) * 100:.1f} %",
        _number(latency.get("p50"), 2),
        _number(latency.get("p90"), 2),
        _number(latency.get("p99"), 2),
        _number(latency.get("max"), 1),
        notes,
    ]


LOAD_HEADER = (
    "scenario",
    "load",
    "patients",
    "2xx/s",
    "2xx",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "notes",
)
READS = ("read", "read-direct", SCALE_SCENARIO)


def load_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per load run; the read runs name the table size they read."""
    rows: list[list[str]] = []
    for name in ("read", "read-direct", SCALE_SCENARIO, "create", "mixed", "login"):
        scenario = _scenario(results, name)
        if not scenario:
            continue
        if not _measured(scenario):
            rows.append([name] + ["-"] * (len(LOAD_HEADER) - 2) + [scenario.get("status", "")])
            continue
        label = name if name != "login" else f"login via {scenario.get('via', '?')}"
        patients = patients_in_table(results, name) if name in READS else None
        rows.extend(_run_row(label, run, patients) for run in scenario.get("runs", []))
        for where, runs in scenario.get("fixed_rate_runs", {}).items():
            rows.extend(_run_row(f"{name} ({where}, CO-corrected)", run, patients) for run in runs)
        for run in scenario.get("search", {}).get("runs", []):
            rows.append(_run_row(f"{name} search", run, patients))
    return rows


def _machine_line(meta: dict[str, Any]) -> str:
    machine = meta.get("machine", {})
    before = meta.get("load_average_before") or [math.nan] * 3
    after = meta.get("load_average_after") or [math.nan] * 3
    return (
        f"{machine.get('cpus')} CPUs ({machine.get('cpu_model')}), "
        f"{machine.get('memory_gib')} GiB, {machine.get('os')}, Linux {machine.get('kernel')}, "
        f"Python {machine.get('python')}; load average (1/5/15 min) before "
        f"{before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f}, after "
        f"{after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}"
    )


def key_figure_rows(results: dict[str, Any]) -> list[list[str]]:
    ratios = key_ratios(results)
    rows = [
        ["read peak through the gateway (2xx/s)", _number(peak(results, "read"))],
        ["read-direct peak (2xx/s)", _number(peak(results, "read-direct"))],
        ["database ceiling: page + count (pgbench tps)", _number(ceiling_rate(results))],
        [
            "database ceiling with the audit insert (tps)",
            _number(ceiling_rate(results, "rate_with_audit")),
        ],
        [
            "database ceiling of the create's SQL, rolled back (tps)",
            _number(ceiling_rate(results, "rate_create")),
        ],
        ["gateway / direct", _percent(ratios["gateway_over_direct"])],
        ["direct / ceiling", _percent(ratios["direct_over_ceiling"])],
        [
            "direct / ceiling with the audit insert",
            _percent(ratios["direct_over_ceiling_with_audit"]),
        ],
        ["gateway / ceiling", _percent(ratios["gateway_over_ceiling"])],
        _half_peak_row(results),
        *_scale_rows(results),
        ["create peak (2xx/s)", _number(peak(results, "create"))],
        ["mixed peak (2xx/s)", _number(peak(results, "mixed"))],
        ["logins per second", _number(peak(results, "login"))],
    ]
    events = _scenario(results, "events")
    if _measured(events):
        for run in events.get("by_rate", [events]):
            rows.append(_events_row(run))
    else:
        rows.append(["events lag", str(events.get("status", "not run"))])
    return rows


def _half_peak_row(results: dict[str, Any]) -> list[str]:
    run = half_peak_run(results)
    if run is None:
        return ["gateway read at 50 % of its peak (CO-corrected p50 / p99)", "-"]
    latency = run.get("latency_ms", {})
    return [
        f"gateway read at 50 % of its peak, {run.get('target_rate', 0):g}/s "
        "(CO-corrected p50 / p99)",
        f"{_number(latency.get('p50'), 1)} / {_number(latency.get('p99'), 1)} ms",
    ]


def _scale_rows(results: dict[str, Any]) -> list[list[str]]:
    scale = _scenario(results, SCALE_SCENARIO)
    if not scale:
        return []
    size = patients_in_table(results, SCALE_SCENARIO)
    if not _measured(scale):
        return [[f"default page and search at scale ({SCALE_SCENARIO})", str(scale.get("status"))]]
    cpu = scale_cpu(results)
    normal = patients_in_table(results, "read-direct")
    ratio = cpu["ratio"]
    rows = [
        [
            f"default page at {_count(size)} patients: peak 2xx/s; patients CPU per request "
            f"(vs read-direct at {_count(normal)})",
            f"{_number(peak(results, SCALE_SCENARIO))}/s; {_number(cpu['at_scale'], 2)} ms "
            f"(vs {_number(cpu['normal'], 2)} ms: "
            + ("-" if ratio is None else f"{ratio:.2f}x")
            + ")",
        ]
    ]
    search = search_at_scale(results)
    if search is not None:
        latency = search.get("latency_ms", {})
        cpu_search = search.get("cpu_seconds_per_1000_requests", {}).get("patients")
        rows.append(
            [
                f"search `{search.get('term')}` at {_count(size)} patients, "
                f"{search.get('connections')} connection (p50 / p99)",
                f"{_number(latency.get('p50'), 2)} / {_number(latency.get('p99'), 2)} ms; "
                f"{_count(search.get('matches'))} match; {_number(search.get('ok_rate'))}/s; "
                f"patients CPU {_number(cpu_search, 2)} ms per search",
            ]
        )
    return rows


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _events_row(run: dict[str, Any]) -> list[str]:
    lag = run.get("lag_ms", {})
    create = run.get("create_latency_ms", {})
    kafka = run.get("to_kafka_ms")
    to_kafka = (
        f"; 201 -> in Kafka p50 {_number(kafka.get('p50'), 0)} ms, "
        f"p99 {_number(kafka.get('p99'), 0)} ms"
        if isinstance(kafka, dict)
        else ""
    )
    cpu = run.get("cpu_ms_per_create")
    cpu_text = (
        f"; CPU per create {_number(cpu['total'])} ms, all processes"
        if isinstance(cpu, dict) and "total" in cpu
        else ""
    )
    return [
        f"events lag, {_number(run.get('target_rate'), 0)} creates/s asked, "
        f"{_number(run.get('achieved_rate'))} kept up "
        "(p50 / p90 / p99 / max)",
        f"{_number(lag.get('p50'), 0)} / {_number(lag.get('p90'), 0)} / "
        f"{_number(lag.get('p99'), 0)} / {_number(lag.get('max'), 0)} ms "
        f"(poll every {_number(run.get('poll_period_ms'), 0)} ms; "
        f"{run.get('never_counted', 0)} never counted; create p50 "
        f"{_number(create.get('p50'), 0)} ms, p99 {_number(create.get('p99'), 0)} ms"
        f"{to_kafka}{cpu_text})",
    ]


def _cpu_columns(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each scenario's CPU seconds per 1,000 requests by process (the search at scale
    apart from its default page: a different request)."""
    columns = []
    for name in CPU_SCENARIOS:
        data = _scenario(results, name)
        if data.get("cpu_seconds_per_1000_requests"):
            columns.append((name, data["cpu_seconds_per_1000_requests"]))
        search = data.get("search", {}).get("cpu_seconds_per_1000_requests")
        if search:
            columns.append((f"{name} search", search))
    return columns


def _processes(idle: dict[str, Any], cpu_columns: list[dict[str, Any]]) -> list[str]:
    """Ours in the platform's order, then any other watched names (``--watch-pid``)."""
    seen = [*idle, *(name for values in cpu_columns for name in values)]
    others = [name for name in dict.fromkeys(seen) if name not in CPU_COLUMNS]
    return [*CPU_COLUMNS, *others]


def resource_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    resources = _scenario(results, "resources")
    idle = resources.get("rss_mb_idle", {})
    after = resources.get("rss_mb_after_load", {})
    columns = _cpu_columns(results)
    header = ["process", "RSS idle MB", "RSS after load MB"] + [
        f"CPU s/1k req: {label}" for label, _ in columns
    ]
    rows = []
    for process in _processes(idle, [values for _, values in columns]):
        cpu = [values.get(process) for _, values in columns]
        if process not in idle and all(value is None for value in cpu):
            continue
        rows.append(
            [process, _number(idle.get(process)), _number(after.get(process))]
            + [_number(value, 3) for value in cpu]
        )
    return header, rows


def cold_start_text(results: dict[str, Any]) -> str:
    cold = _scenario(results, "resources").get("cold_start", {})
    if cold.get("status") != "measured":
        return f"Cold start: {cold.get('status', 'not measured')}."
    per_service = ", ".join(f"{k} {v:.2f} s" for k, v in cold.get("ready_seconds", {}).items())
    return (
        f"Cold start (all five launched together, PostgreSQL and Kafka up, migrations done "
        f"before in {cold.get('migrate_seconds')} s): all ready after "
        f"**{cold.get('all_ready_seconds')} s**; per service: {per_service}."
    )


def _table_sizes(results: dict[str, Any]) -> str:
    text = f"{_count(results.get('meta', {}).get('patients_in_table'))} for read, read-direct"
    text += " and ceiling"
    scale = _scenario(results, SCALE_SCENARIO)
    database = scale.get("database")
    if isinstance(database, dict):
        how = "seeded by this run" if database.get("seeded_now") else "reused"
        text += (
            f"; {_count(database.get('patients'))} for {SCALE_SCENARIO}, in its own database "
            f"`{database.get('name')}` ({how}, through SQL)"
        )
    return text


def render_markdown(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    tools = meta.get("tools", {})
    parts = [
        f"# pms bench: {meta.get('started_at', '?')} ({meta.get('mode', '?')} run, "
        f"{meta.get('duration_seconds', '?')} s)",
        "",
        f"- Target: `{meta.get('target')}`; platform {meta.get('platform', '?')}.",
        f"- Machine: {_machine_line(meta)}.",
        f"- Generators: wrk `{tools.get('wrk')}` (closed loop), oha `{tools.get('oha')}` "
        "(fixed rate, latency measured from the scheduled send time: corrected for "
        "coordinated omission).",
        "- Patients in the table (a read is the default page: 50 by name, plus the total "
        f"count): {_table_sizes(results)}.",
        "",
        "## Targets",
        "",
        markdown_table(
            ["target", "figure", "threshold", "verdict"],
            [[c.name, c.figure, c.threshold, c.verdict] for c in check_targets(results)],
        ),
        "",
        "## Key figures",
        "",
        markdown_table(["figure", "value"], key_figure_rows(results)),
        "",
        "## Every run",
        "",
        markdown_table(LOAD_HEADER, load_rows(results)),
        "",
        "## Resources",
        "",
        markdown_table(*resource_rows(results)),
        "",
        cold_start_text(results),
        "",
        idle_cpu_text(results),
        "",
    ]
    profile = results.get("profile")
    if isinstance(profile, dict) and profile.get("markdown"):
        parts += ["## Profile", "", str(profile["markdown"]), ""]
    return "\n".join(parts)


def write_results(results: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """``<stem>.json`` and ``<stem>.md``, and the same as ``latest.*``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {**results, "targets": [c.to_json() for c in check_targets(results)]}
    text = json.dumps(results, indent=2, default=str)
    markdown = render_markdown(results)
    written = []
    for name in (stem, "latest"):
        (out_dir / f"{name}.json").write_text(text + "\n")
        (out_dir / f"{name}.md").write_text(markdown)
        written += [out_dir / f"{name}.json", out_dir / f"{name}.md"]
    return written
