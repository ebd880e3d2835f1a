"""Issue 14's targets and issue 15's the bench measures: each figure and verdict from a JSON-shaped
result, and "not measured" with the reason when a scenario did not run."""

from typing import Any

import pytest

from pms_cli.bench.figures import half_peak_run, scale_cpu
from pms_cli.bench.targets import TargetCheck, check_targets

CEILING = "read-direct vs database ceiling with the audit insert"
GATEWAY = "read through the gateway vs read-direct"
HALF_PEAK = "gateway read p99 at 50 % of its peak rate (CO-corrected)"
SCALE = "default page CPU per request, 100,000 / 1,000 patients (patients process)"
SEARCH = "search (?search=) p50 at 100,000 patients"
RSS = "idle RSS per service"
COLD = "cold start (launch of all five -> every /health/ready 200)"
EVENTS = "events lag p99 (201 -> counted by analytics)"
CREATE_CPU = "CPU per create, all processes (services, PostgreSQL, Kafka)"
MIXED = "mixed 80/15/5 peak vs read peak"
CREATE_P99 = "create p99 at 50 % of the create peak (CO-corrected)"
CREATE_CEILING = "create peak vs database ceiling of the create's SQL"
REPLAY = "analytics replay (pms analytics rebuild)"
CONSOLE = "console patient list interactive at 1,000 patients"


def _run(connections: int, p50: float = 5.0, p99: float = 20.0, **extra: Any) -> dict[str, Any]:
    return {
        "connections": connections,
        "target_rate": None,
        "ok_fraction": 1.0,
        "latency_ms": {"p50": p50, "p99": p99},
        **extra,
    }


def _cpu(patients: float) -> dict[str, Any]:
    return {"cpu_seconds_per_1000_requests": {"patients": patients}}


def results() -> dict[str, Any]:
    """Every target met."""
    return {
        "meta": {"patients_in_table": 1000},
        "scenarios": {
            "read": {
                "status": "measured",
                "peak_ok_rate": 900.0,
                "fixed_rate_runs": {
                    "gateway": [
                        _run(64, 3.0, 8.0, target_rate=450.0, peak_fraction=0.5),
                        _run(64, 9.0, 80.0, target_rate=810.0, peak_fraction=0.9),
                    ]
                },
            },
            "read-direct": {
                "status": "measured",
                "patients_in_table": 1000,
                "peak_ok_rate": 1000.0,
                "runs": [_run(1, **_cpu(1.5)), _run(16, **_cpu(1.0)), _run(64, **_cpu(0.9))],
                "cpu_seconds_per_1000_requests": {"patients": 1.2},
            },
            "ceiling": {
                "status": "measured",
                "rate": 3000.0,
                "rate_with_audit": 1500.0,
                "rate_create": 1000.0,
            },
            "read-100k": {
                "status": "measured",
                "patients_in_table": 100000,
                "runs": [_run(16, **_cpu(1.8))],
                "search": {"term": "Okonkwo", "matches": 2000, "runs": [_run(1, 6.0, 9.0)]},
            },
            "create": {
                "status": "measured",
                "peak_ok_rate": 300.0,
                "runs": [
                    _run(1, cpu_seconds_per_1000_requests={"patients": 6.0, "kafka": 4.0}),
                    _run(
                        16,
                        cpu_seconds_per_1000_requests={
                            "patients": 3.0,
                            "postgres": 2.5,
                            "kafka": 1.0,
                        },
                    ),
                ],
            },
            "mixed": {"status": "measured", "peak_ok_rate": 600.0},
            "replay": {
                "status": "measured",
                "events": 100000,
                "seconds": 10.0,
                "events_per_second": 10000.0,
            },
            "events": {
                "status": "measured",
                "achieved_rate": 199.0,
                "lag_ms": {"p99": 150.0},
                "never_counted": 0,
                "half_create_peak": {
                    "rate": 150.0,
                    "create_latency_ms": {"p50": 9.0, "p99": 30.0},
                    "failed": {},
                },
            },
            "console": {
                "status": "measured",
                "patients_in_table": 1000,
                "time_to_interactive_ms": [60.0, 45.5, 50.0],
            },
            "resources": {
                "status": "measured",
                "rss_mb_idle": {"gateway": 45.0, "patients": 60.0},
                "cold_start": {"status": "measured", "all_ready_seconds": 2.4},
            },
        },
    }


def _checks(data: dict[str, Any]) -> dict[str, TargetCheck]:
    return {check.name: check for check in check_targets(data)}


def test_every_target_of_the_issue_is_checked_in_its_order() -> None:
    checks = check_targets(results())
    assert [c.name for c in checks] == [
        CEILING,
        GATEWAY,
        HALF_PEAK,
        SCALE,
        SEARCH,
        RSS,
        COLD,
        CREATE_CEILING,
        CREATE_CPU,
        EVENTS,
        CREATE_P99,
        REPLAY,
        MIXED,
        CONSOLE,
    ]
    assert all(c.met is True for c in checks), [c for c in checks if c.met is not True]


def test_figures_name_the_values_behind_each_verdict() -> None:
    checks = _checks(results())
    assert checks[CEILING].figure == "67 % (1,000 vs 1,500/s)"
    assert checks[GATEWAY].figure == "90 % (900 vs 1,000/s)"
    assert checks[HALF_PEAK].figure == "8.0 ms at 450/s"
    assert checks[SCALE].figure == "1.80x (1.80 ms at 100,000 vs 1.00 ms at 1,000 patients)"
    assert checks[SEARCH].figure == "6.0 ms (p99 9.0 ms; 1 connection; 2,000 of 100,000 match)"
    assert checks[RSS].figure.startswith("max 60 MB (patients)")
    assert checks[COLD].figure == "2.40 s"
    assert checks[CREATE_CPU].figure == (
        "6.5 ms at 16 connections (patients 3.00, postgres 2.50, kafka 1.00); 10.0 ms at 1"
    )
    assert checks[MIXED].figure == "67 % (600 vs 900/s)"
    assert checks[CREATE_P99].figure == "30.0 ms at 150/s"
    assert checks[CREATE_CEILING].figure == "30 % (300 vs 1,000/s)"
    assert checks[REPLAY].figure == "10,000 events/s (100,000 events in 10.0 s)"
    assert checks[CONSOLE].figure == "60 ms slowest of 3 (median 50 ms) at 1,000 patients"


def test_thresholds_are_the_issues() -> None:
    thresholds = {name: check.threshold for name, check in _checks(results()).items()}
    assert thresholds[CEILING] == ">= 60%"
    assert thresholds[GATEWAY] == ">= 85%"
    assert thresholds[HALF_PEAK] == "<= 15 ms"
    assert thresholds[SCALE] == "<= 2x"
    assert thresholds[SEARCH] == "<= 10 ms"
    assert thresholds[RSS] == "<= 60 MB each"
    assert thresholds[COLD] == "<= 2.5 s"
    assert thresholds[CREATE_CPU] == "<= 8 ms at the create peak"
    assert thresholds[EVENTS] == "<= 200 ms at 80 % of the create peak"
    assert thresholds[MIXED] == ">= 60%"
    assert thresholds[CREATE_P99] == "<= 40 ms"
    assert thresholds[CREATE_CEILING] == ">= 25%"
    assert thresholds[REPLAY] == ">= 5,000 events/s"
    assert thresholds[CONSOLE] == "<= 1 s"


def test_each_target_missed() -> None:
    data = results()
    scenarios = data["scenarios"]
    scenarios["ceiling"]["rate_with_audit"] = 2000.0  # 50 %
    scenarios["read"]["peak_ok_rate"] = 800.0  # 80 %
    scenarios["read"]["fixed_rate_runs"]["gateway"][0]["latency_ms"]["p99"] = 15.1
    scenarios["read-100k"]["runs"][0]["cpu_seconds_per_1000_requests"]["patients"] = 2.1
    scenarios["read-100k"]["search"]["runs"][0]["latency_ms"]["p50"] = 10.5
    scenarios["resources"]["rss_mb_idle"]["auth"] = 61.0
    scenarios["resources"]["cold_start"]["all_ready_seconds"] = 2.6
    scenarios["events"]["never_counted"] = 3
    scenarios["create"]["runs"][1]["cpu_seconds_per_1000_requests"]["kafka"] = 2.6  # 8.1 ms
    scenarios["mixed"]["peak_ok_rate"] = 470.0  # 59 % of the 800 above
    scenarios["events"]["half_create_peak"]["create_latency_ms"]["p99"] = 40.5
    scenarios["ceiling"]["rate_create"] = 1300.0  # 23 %
    scenarios["replay"]["events_per_second"] = 4999.0
    scenarios["console"]["time_to_interactive_ms"][1] = 1000.5  # one navigation is enough
    assert all(check.met is False for check in check_targets(data))


def test_a_half_peak_run_with_failures_misses_the_latency_target() -> None:
    data = results()
    data["scenarios"]["read"]["fixed_rate_runs"]["gateway"][0]["ok_fraction"] = 0.9
    check = _checks(data)[HALF_PEAK]
    assert (check.met, check.figure) == (False, "8.0 ms at 450/s (90.0 % 2xx)")


def test_the_scale_ratio_compares_runs_at_the_same_connections() -> None:
    assert scale_cpu(results()) == {"at_scale": 1.8, "normal": 1.0, "ratio": pytest.approx(1.8)}
    data = results()  # a result without CPU per run falls back to the scenario's
    for run in data["scenarios"]["read-direct"]["runs"]:
        del run["cpu_seconds_per_1000_requests"]
    assert scale_cpu(data)["normal"] == 1.2


def test_the_half_peak_run_of_an_older_result_is_found_by_its_rate() -> None:
    data = results()
    runs = data["scenarios"]["read"]["fixed_rate_runs"]["gateway"]
    for run in runs:
        del run["peak_fraction"]
    assert half_peak_run(data) == runs[0]
    data["scenarios"]["read"]["peak_ok_rate"] = 700.0  # no run at 350/s
    assert half_peak_run(data) is None


def test_missing_scenarios_are_not_measured_with_their_reason() -> None:
    data = results()
    data["scenarios"]["read-direct"] = {"status": "skipped: no --patients-url"}
    data["scenarios"]["read-100k"] = {"status": "failed: the scratch service exited"}
    data["scenarios"]["read"]["fixed_rate_runs"] = {}
    data["scenarios"]["read"]["fixed_rate"] = "skipped: oha not available"
    del data["scenarios"]["resources"]
    checks = _checks(data)
    assert checks[CEILING].met is None
    assert checks[CEILING].figure == "read-direct: skipped: no --patients-url"
    assert (checks[HALF_PEAK].met, checks[HALF_PEAK].figure) == (
        None,
        "skipped: oha not available",
    )
    assert checks[SCALE].figure == "read-100k: failed: the scratch service exited"
    assert checks[SEARCH].met is None
    assert (checks[RSS].met, checks[RSS].figure) == (None, "resources: not run")
    assert checks[COLD].met is None


def test_the_console_target_needs_its_1000_patients_and_a_browser() -> None:
    data = results()
    data["scenarios"]["console"]["patients_in_table"] = 999
    check = _checks(data)[CONSOLE]
    assert (check.met, check.figure) == (None, "60 ms slowest of 3 (median 50 ms) at 999 patients")
    data["scenarios"]["console"] = {"status": "skipped: /usr/bin/chromium not found"}
    check = _checks(data)[CONSOLE]
    assert (check.met, check.figure) == (None, "console: skipped: /usr/bin/chromium not found")


def test_cold_start_not_measured_when_the_platform_was_already_running() -> None:
    data = results()
    skipped = {"status": "skipped: the platform was already running"}
    data["scenarios"]["resources"]["cold_start"] = skipped
    check = _checks(data)[COLD]
    assert (check.met, check.figure) == (None, "skipped: the platform was already running")


def test_events_lag_target_is_kept() -> None:
    data = results()
    data["scenarios"]["events"] = {"status": "skipped: analytics not available"}
    check = _checks(data)[EVENTS]
    assert (check.met, check.figure) == (None, "skipped: analytics not available")
