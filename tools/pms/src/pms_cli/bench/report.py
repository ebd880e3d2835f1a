"""The figures a run produced, as targets checked, a Markdown page and files on disk.

Everything here reads the JSON-shaped result only, so a saved ``.json`` can be
rendered again (``pms bench --render FILE``) and the functions are tested without load.
"""

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pms_cli.bench.stats import ratio

RSS_TARGET_MB = 80.0
COLD_START_TARGET_SECONDS = 5.0
GATEWAY_SHARE_TARGET = 0.60
DIRECT_SHARE_OF_CEILING_TARGET = 0.25
EVENTS_P99_TARGET_MS = 200.0
SERVICES_ORDER = ("gateway", "auth", "patients", "billing", "analytics")
CPU_COLUMNS = ("gateway", "auth", "patients", "billing", "analytics", "postgres", "kafka")


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


def _scenario(results: dict[str, Any], name: str) -> dict[str, Any]:
    found = results.get("scenarios", {}).get(name)
    return found if isinstance(found, dict) else {}


def _measured(scenario: dict[str, Any]) -> bool:
    return scenario.get("status") == "measured"


def peak(results: dict[str, Any], name: str) -> float | None:
    scenario = _scenario(results, name)
    if not _measured(scenario):
        return None
    value = scenario.get("peak_ok_rate")
    return float(value) if isinstance(value, int | float) else None


def ceiling_rate(results: dict[str, Any]) -> float | None:
    scenario = _scenario(results, "ceiling")
    value = scenario.get("rate") if _measured(scenario) else None
    return float(value) if isinstance(value, int | float) else None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def key_ratios(results: dict[str, Any]) -> dict[str, float | None]:
    read, direct, db = peak(results, "read"), peak(results, "read-direct"), ceiling_rate(results)
    return {
        "gateway_over_direct": ratio(read, direct),
        "direct_over_ceiling": ratio(direct, db),
        "gateway_over_ceiling": ratio(read, db),
    }


def check_targets(results: dict[str, Any]) -> list[TargetCheck]:
    ratios = key_ratios(results)
    checks = [
        TargetCheck(
            "read through the gateway vs read-direct",
            _percent(ratios["gateway_over_direct"]),
            f">= {GATEWAY_SHARE_TARGET:.0%}",
            None
            if ratios["gateway_over_direct"] is None
            else ratios["gateway_over_direct"] >= GATEWAY_SHARE_TARGET,
        ),
        TargetCheck(
            "read-direct vs database ceiling",
            _percent(ratios["direct_over_ceiling"]),
            f">= {DIRECT_SHARE_OF_CEILING_TARGET:.0%}",
            None
            if ratios["direct_over_ceiling"] is None
            else ratios["direct_over_ceiling"] >= DIRECT_SHARE_OF_CEILING_TARGET,
        ),
    ]
    events = _scenario(results, "events")
    p99 = events.get("lag_ms", {}).get("p99") if _measured(events) else None
    if isinstance(p99, int | float) and not math.isnan(p99):
        figure = f"{p99:.0f} ms at {events.get('achieved_rate')} creates/s"
        met: bool | None = p99 < EVENTS_P99_TARGET_MS and not events.get("never_counted")
    else:
        figure, met = events.get("status", "not run"), None
    checks.append(
        TargetCheck(
            "events lag p99 (201 -> counted by analytics)",
            figure,
            f"< {EVENTS_P99_TARGET_MS:.0f} ms at 200/s",
            met,
        )
    )
    resources = _scenario(results, "resources")
    idle = resources.get("rss_mb_idle", {}) if _measured(resources) else {}
    if idle:
        worst = max(idle, key=lambda name: idle[name])
        checks.append(
            TargetCheck(
                "idle RSS per service",
                f"max {idle[worst]:.0f} MB ({worst})",
                f"< {RSS_TARGET_MB:.0f} MB",
                all(value < RSS_TARGET_MB for value in idle.values()),
            )
        )
    else:
        checks.append(TargetCheck("idle RSS per service", "not measured", "< 80 MB", None))
    cold = resources.get("cold_start", {}) if _measured(resources) else {}
    all_ready = cold.get("all_ready_seconds")
    if isinstance(all_ready, int | float):
        checks.append(
            TargetCheck(
                "cold start (launch -> all /health/ready 200)",
                f"{all_ready:.1f} s",
                f"< {COLD_START_TARGET_SECONDS:.0f} s",
                all_ready < COLD_START_TARGET_SECONDS,
            )
        )
    else:
        checks.append(
            TargetCheck(
                "cold start (launch -> all /health/ready 200)",
                str(cold.get("status", "not measured")),
                "< 5 s",
                None,
            )
        )
    return checks


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


def _run_row(label: str, run: dict[str, Any]) -> list[str]:
    if run.get("target_rate") is not None:
        load = f"{run['target_rate']:g} req/s fixed"
    else:
        load = f"{run['connections']} conn"
    latency = run.get("latency_ms", {})
    notes = "; ".join(run.get("notes", []))
    return [
        label,
        load,
        _number(run.get("ok_rate")),
        f"{run.get('ok_fraction', 0) * 100:.1f} %",
        _number(latency.get("p50"), 2),
        _number(latency.get("p90"), 2),
        _number(latency.get("p99"), 2),
        _number(latency.get("max"), 1),
        notes,
    ]


def load_rows(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for name in ("read", "read-direct", "create", "mixed", "login"):
        scenario = _scenario(results, name)
        if not scenario:
            continue
        if not _measured(scenario):
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", scenario.get("status", "")])
            continue
        label = name if name != "login" else f"login via {scenario.get('via', '?')}"
        rows.extend(_run_row(label, run) for run in scenario.get("runs", []))
        for where, runs in scenario.get("fixed_rate_runs", {}).items():
            rows.extend(_run_row(f"{name} ({where}, CO-corrected)", run) for run in runs)
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
            _number(_scenario(results, "ceiling").get("rate_with_audit")),
        ],
        ["gateway / direct", _percent(ratios["gateway_over_direct"])],
        ["direct / ceiling", _percent(ratios["direct_over_ceiling"])],
        ["gateway / ceiling", _percent(ratios["gateway_over_ceiling"])],
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
    return [
        f"events lag, {_number(run.get('target_rate'), 0)} creates/s asked, "
        f"{_number(run.get('achieved_rate'))} kept up "
        "(p50 / p90 / p99 / max)",
        f"{_number(lag.get('p50'), 0)} / {_number(lag.get('p90'), 0)} / "
        f"{_number(lag.get('p99'), 0)} / {_number(lag.get('max'), 0)} ms "
        f"(poll every {_number(run.get('poll_period_ms'), 0)} ms; "
        f"{run.get('never_counted', 0)} never counted; create p50 "
        f"{_number(create.get('p50'), 0)} ms, p99 {_number(create.get('p99'), 0)} ms"
        f"{to_kafka})",
    ]


def resource_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    resources = _scenario(results, "resources")
    idle = resources.get("rss_mb_idle", {})
    after = resources.get("rss_mb_after_load", {})
    scenario_names = [
        name
        for name in ("read", "read-direct", "create", "mixed", "login", "events")
        if _scenario(results, name).get("cpu_seconds_per_1000_requests")
    ]
    header = ["process", "RSS idle MB", "RSS after load MB"] + [
        f"CPU s/1k req: {name}" for name in scenario_names
    ]
    rows = []
    for process in CPU_COLUMNS:
        cpu = [
            _scenario(results, name).get("cpu_seconds_per_1000_requests", {}).get(process)
            for name in scenario_names
        ]
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
        f"- Patients in the table: {meta.get('patients_in_table')} (a read is the default "
        "page: 50 by name, plus the total count).",
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
        markdown_table(
            ["scenario", "load", "2xx/s", "2xx", "p50 ms", "p90 ms", "p99 ms", "max ms", "notes"],
            load_rows(results),
        ),
        "",
        "## Resources",
        "",
        markdown_table(*resource_rows(results)),
        "",
        cold_start_text(results),
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
