"""Targets, key ratios and the Markdown page, from a JSON-shaped result."""

from pathlib import Path
from typing import Any

import pytest

from pms_cli.bench.report import (
    check_targets,
    key_ratios,
    load_rows,
    markdown_table,
    render_markdown,
    resource_rows,
    write_results,
)


def _run(ok_rate: float, connections: int = 16, **extra: Any) -> dict[str, Any]:
    return {
        "connections": connections,
        "target_rate": None,
        "ok_rate": ok_rate,
        "ok_fraction": 1.0,
        "latency_ms": {"p50": 5.0, "p90": 9.0, "p99": 20.0, "max": 30.0},
        "notes": [],
        **extra,
    }


def sample() -> dict[str, Any]:
    return {
        "meta": {
            "started_at": "2026-01-01T00:00:00+00:00",
            "mode": "quick",
            "target": "http://127.0.0.1:4004",
            "machine": {"cpus": 2, "cpu_model": "x", "memory_gib": 24, "os": "Debian"},
            "load_average_before": [1.0, 1.0, 1.0],
            "load_average_after": [2.0, 1.5, 1.0],
            "tools": {"wrk": "wrk 4.1.0", "oha": "oha 1.16.0"},
        },
        "scenarios": {
            "read": {
                "status": "measured",
                "peak_ok_rate": 300.0,
                "runs": [_run(300.0)],
                "fixed_rate_runs": {"gateway": [_run(150.0, 64, target_rate=150.0)]},
                "cpu_seconds_per_1000_requests": {"gateway": 0.29, "patients": 3.0},
            },
            "read-direct": {"status": "measured", "peak_ok_rate": 400.0, "runs": [_run(400.0)]},
            "ceiling": {"status": "measured", "rate": 4000.0, "rate_with_audit": 2500.0},
            "create": {"status": "skipped: no reason", "runs": []},
            "events": {
                "status": "measured",
                "achieved_rate": 199.0,
                "lag_ms": {"p50": 50.0, "p90": 90.0, "p99": 150.0, "max": 170.0},
                "never_counted": 0,
            },
            "resources": {
                "status": "measured",
                "rss_mb_idle": {"gateway": 70.0, "patients": 120.0},
                "rss_mb_after_load": {"gateway": 75.0, "patients": 130.0},
                "cold_start": {
                    "status": "measured",
                    "migrate_seconds": 2.0,
                    "ready_seconds": {"gateway": 2.0, "patients": 4.5},
                    "all_ready_seconds": 4.5,
                },
            },
        },
    }


def test_key_ratios() -> None:
    ratios = key_ratios(sample())
    assert ratios["gateway_over_direct"] == pytest.approx(0.75)
    assert ratios["direct_over_ceiling"] == pytest.approx(0.10)
    assert ratios["gateway_over_ceiling"] == pytest.approx(0.075)


def test_targets_met_missed_and_not_measured() -> None:
    verdicts = {check.name: check.met for check in check_targets(sample())}
    assert verdicts == {
        "read through the gateway vs read-direct": True,
        "read-direct vs database ceiling": False,
        "events lag p99 (201 -> counted by analytics)": True,
        "idle RSS per service": False,
        "cold start (launch -> all /health/ready 200)": True,
    }
    results = sample()
    results["scenarios"]["read-direct"] = {"status": "skipped: no --patients-url"}
    results["scenarios"]["events"] = {"status": "skipped: analytics not available"}
    checks = {check.name: check for check in check_targets(results)}
    assert checks["read through the gateway vs read-direct"].met is None
    events = checks["events lag p99 (201 -> counted by analytics)"]
    assert (events.met, events.figure) == (None, "skipped: analytics not available")


def test_events_lag_with_patients_never_counted_misses_the_target() -> None:
    results = sample()
    results["scenarios"]["events"]["never_counted"] = 3
    checks = {check.name: check.met for check in check_targets(results)}
    assert checks["events lag p99 (201 -> counted by analytics)"] is False


def test_markdown_table_escapes_pipes() -> None:
    assert markdown_table(["a", "b"], [["x|y", "1"]]) == "| a | b |\n|---|---|\n| x\\|y | 1 |"


def test_rows_show_closed_loop_fixed_rate_and_skipped_scenarios() -> None:
    rows = load_rows(sample())
    labels = [(row[0], row[1]) for row in rows]
    assert ("read", "16 conn") in labels
    assert ("read (gateway, CO-corrected)", "150 req/s fixed") in labels
    skipped = next(row for row in rows if row[0] == "create")
    assert skipped[-1] == "skipped: no reason"


def test_resource_rows_have_rss_and_cpu_per_scenario() -> None:
    header, rows = resource_rows(sample())
    assert header == ["process", "RSS idle MB", "RSS after load MB", "CPU s/1k req: read"]
    assert ["gateway", "70.0", "75.0", "0.290"] in rows
    assert ["patients", "120.0", "130.0", "3.000"] in rows


def test_the_page_names_the_machine_load_and_verdicts() -> None:
    page = render_markdown(sample())
    assert page.startswith("# pms bench: 2026-01-01T00:00:00+00:00 (quick run")
    assert "load average (1/5/15 min) before 1.00/1.00/1.00, after 2.00/1.50/1.00" in page
    assert "| read-direct vs database ceiling | 10 % | >= 25% | **missed** |" in page
    assert "all ready after **4.5 s**" in page


def test_results_are_written_with_a_latest_copy(tmp_path: Path) -> None:
    written = write_results(sample(), tmp_path, "20260101-000000-quick")
    assert {path.name for path in written} == {
        "20260101-000000-quick.json",
        "20260101-000000-quick.md",
        "latest.json",
        "latest.md",
    }
    assert '"targets"' in (tmp_path / "latest.json").read_text()
