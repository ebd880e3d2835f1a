"""Key ratios and the Markdown page, from a JSON-shaped result."""

from pathlib import Path
from typing import Any

import pytest

from pms_cli.bench.figures import key_ratios
from pms_cli.bench.report import (
    key_figure_rows,
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
    database = {"name": "pms_patients_bench_100k", "patients": 100000, "seeded_now": False}
    return {
        "meta": {
            "started_at": "2026-01-01T00:00:00+00:00",
            "mode": "quick",
            "target": "http://127.0.0.1:4004",
            "machine": {"cpus": 2, "cpu_model": "x", "memory_gib": 24, "os": "Debian"},
            "load_average_before": [1.0, 1.0, 1.0],
            "load_average_after": [2.0, 1.5, 1.0],
            "tools": {"wrk": "wrk 4.1.0", "oha": "oha 1.16.0"},
            "patients_in_table": 1000,
        },
        "scenarios": {
            "read": {
                "status": "measured",
                "patients_in_table": 1000,
                "peak_ok_rate": 300.0,
                "runs": [_run(300.0)],
                "fixed_rate_runs": {
                    "gateway": [_run(150.0, 64, target_rate=150.0, peak_fraction=0.5)]
                },
                "cpu_seconds_per_1000_requests": {"gateway": 0.29, "patients": 3.0},
            },
            "read-direct": {
                "status": "measured",
                "patients_in_table": 1000,
                "peak_ok_rate": 400.0,
                "runs": [_run(400.0, cpu_seconds_per_1000_requests={"patients": 2.0})],
            },
            "ceiling": {"status": "measured", "rate": 4000.0, "rate_with_audit": 2500.0},
            "read-100k": {
                "status": "measured",
                "patients_in_table": 100000,
                "database": database,
                "peak_ok_rate": 250.0,
                "runs": [_run(250.0, cpu_seconds_per_1000_requests={"patients": 3.0})],
                "cpu_seconds_per_1000_requests": {"patients": 3.0, "postgres": 1.5},
                "search": {
                    "term": "Okonkwo",
                    "matches": 2000,
                    "runs": [_run(120.0, 1)],
                    "cpu_seconds_per_1000_requests": {"patients": 4.0, "postgres": 2.5},
                },
            },
            "create": {"status": "skipped: no reason", "runs": []},
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
    assert ratios["direct_over_ceiling_with_audit"] == pytest.approx(0.16)
    assert ratios["gateway_over_ceiling"] == pytest.approx(0.075)


def test_markdown_table_escapes_pipes() -> None:
    assert markdown_table(["a", "b"], [["x|y", "1"]]) == "| a | b |\n|---|---|\n| x\\|y | 1 |"


def test_rows_show_closed_loop_fixed_rate_scale_search_and_skipped_scenarios() -> None:
    rows = load_rows(sample())
    labels = {(row[0], row[1], row[2]) for row in rows}
    assert ("read", "16 conn", "1,000") in labels
    assert ("read (gateway, CO-corrected)", "150 req/s fixed", "1,000") in labels
    assert ("read-100k", "16 conn", "100,000") in labels
    assert ("read-100k search", "1 conn", "100,000") in labels
    skipped = next(row for row in rows if row[0] == "create")
    assert (skipped[2], skipped[-1]) == ("-", "skipped: no reason")
    assert all(len(row) == 10 for row in rows)


def test_key_figures_show_half_peak_latency_and_the_table_at_scale() -> None:
    rows = {row[0]: row[1] for row in key_figure_rows(sample())}
    half = rows["gateway read at 50 % of its peak, 150/s (CO-corrected p50 / p99)"]
    assert half == "5.0 / 20.0 ms"
    page = next(v for k, v in rows.items() if k.startswith("default page at 100,000"))
    assert page == "250.0/s; 3.00 ms (vs 2.00 ms: 1.50x)"
    search = next(v for k, v in rows.items() if k.startswith("search `Okonkwo` at 100,000"))
    assert search.startswith("5.00 / 20.00 ms; 2,000 match; 120.0/s; patients CPU 4.00 ms")


def test_resource_rows_have_rss_and_cpu_per_scenario_with_the_search_apart() -> None:
    header, rows = resource_rows(sample())
    assert header == [
        "process",
        "RSS idle MB",
        "RSS after load MB",
        "CPU s/1k req: read",
        "CPU s/1k req: read-100k",
        "CPU s/1k req: read-100k search",
    ]
    assert ["gateway", "70.0", "75.0", "0.290", "-", "-"] in rows
    assert ["patients", "120.0", "130.0", "3.000", "3.000", "4.000"] in rows
    assert ["postgres", "-", "-", "-", "1.500", "2.500"] in rows


def test_resource_rows_show_processes_watched_under_other_names_too() -> None:
    results = {
        "scenarios": {
            "resources": {"rss_mb_idle": {"gateway": 300.0, "java-auth": 250.0}},
            "read": {"cpu_seconds_per_1000_requests": {"gateway": 0.5, "java-auth": 0.1}},
        }
    }
    _, rows = resource_rows(results)
    assert rows == [["gateway", "300.0", "-", "0.500"], ["java-auth", "250.0", "-", "0.100"]]


def test_the_page_names_the_machine_load_table_sizes_and_verdicts() -> None:
    page = render_markdown(sample())
    assert page.startswith("# pms bench: 2026-01-01T00:00:00+00:00 (quick run")
    assert "load average (1/5/15 min) before 1.00/1.00/1.00, after 2.00/1.50/1.00" in page
    assert (
        "1,000 for read, read-direct and ceiling; 100,000 for read-100k, in its own "
        "database `pms_patients_bench_100k` (reused, through SQL)"
    ) in page
    assert (
        "| read through the gateway vs read-direct | 75 % (300 vs 400/s) | >= 85% | **missed** |"
    ) in page
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
