"""Reading wrk's (our Lua hook's) and oha's output, and the commands that run them."""

import json
from pathlib import Path

import pytest

from pms_cli.bench.loadgen import (
    LoadGeneratorError,
    LoadResult,
    oha_command,
    parse_oha_json,
    parse_wrk_output,
    wrk_command,
)

WRK_STDOUT = """\
Running 10s test @ http://127.0.0.1:4004/api/patients
  1 threads and 16 connections
PMS_BENCH_RESULT {"requests":2000,"duration_us":10000000,"bytes":123,\
"errors":{"connect":0,"read":1,"write":0,"status":3,"timeout":2},\
"latency_us":{"mean":8000.5,"max":90000.0,"p50":7000.0,"p90":12000.0,"p99":40000.0,\
"p99.9":80000.0},"statuses":{"200":1997,"429":3}}
Requests/sec:    200.00
"""


def test_wrk_result_line_gives_rates_statuses_errors_and_latency_in_ms() -> None:
    result = parse_wrk_output(WRK_STDOUT, connections=16)
    assert result.tool == "wrk"
    assert result.connections == 16
    assert result.seconds == 10.0
    assert result.requests == 2000
    assert result.rate == 200.0
    assert result.ok == 1997
    assert result.ok_rate == pytest.approx(199.7)
    assert result.ok_fraction == pytest.approx(0.9985)
    assert result.statuses == {"200": 1997, "429": 3}
    assert result.errors == 3  # read + timeout; non-2xx statuses are counted separately
    assert result.latency_ms == {
        "mean": 8.0005,
        "max": 90.0,
        "p50": 7.0,
        "p90": 12.0,
        "p99": 40.0,
        "p99.9": 80.0,
    }


def test_wrk_output_without_our_line_is_an_error() -> None:
    with pytest.raises(LoadGeneratorError, match="no result line"):
        parse_wrk_output("Running 1s test\n", connections=1)


OHA_JSON = {
    "summary": {
        "successRate": 1.0,
        "total": 10.001,
        "slowest": 0.250,
        "fastest": 0.001,
        "average": 0.004,
        "requestsPerSec": 99.9,
    },
    "latencyPercentiles": {
        "p10": 0.001,
        "p50": 0.003,
        "p90": 0.006,
        "p99": 0.020,
        "p99.9": 0.2,
        "p99.99": 0.25,
    },
    "statusCodeDistribution": {"200": 998, "503": 1},
    "errorDistribution": {"aborted due to deadline": 4, "connection closed": 1},
}


def test_oha_json_gives_latency_in_ms_and_separates_requests_cut_at_the_end() -> None:
    result = parse_oha_json(json.dumps(OHA_JSON), connections=64, target_rate=100.0)
    assert result.tool == "oha"
    assert result.target_rate == 100.0
    assert result.requests == 999
    assert result.ok == 998
    assert result.errors == 1  # the 4 still in flight at the deadline are not the server's
    assert result.latency_ms["p50"] == pytest.approx(3.0)
    assert result.latency_ms["p99"] == pytest.approx(20.0)
    assert result.latency_ms["max"] == pytest.approx(250.0)
    assert result.latency_ms["mean"] == pytest.approx(4.0)
    assert "4 in flight at the end (cancelled)" in result.notes
    assert "1x connection closed" in result.notes


def test_oha_without_json_is_an_error() -> None:
    with pytest.raises(LoadGeneratorError, match="no JSON"):
        parse_oha_json("error: connection refused", connections=1, target_rate=1.0)


def test_wrk_command_has_one_thread_at_most_per_connection_and_whole_seconds() -> None:
    command = wrk_command("wrk", "http://h/x", Path("scripts/s.lua"), 1, 2.6)
    assert command == [
        "wrk",
        "-t1",
        "-c1",
        "-d3s",
        "--timeout=10s",
        "-s",
        "scripts/s.lua",
        "http://h/x",
    ]


def test_oha_command_runs_at_a_fixed_rate_with_latency_correction() -> None:
    command = oha_command("oha", "http://h/x", 150.0, 64, 10, {"Authorization": "Bearer t"})
    assert command[:2] == ["oha", "--no-tui"]
    assert "--latency-correction" in command
    assert command[command.index("-q") + 1] == "150"
    assert command[command.index("-c") + 1] == "64"
    assert command[command.index("-z") + 1] == "10s"
    assert command[command.index("-H") + 1] == "Authorization: Bearer t"
    assert command[-1] == "http://h/x"


def test_load_result_json_rounds_and_keeps_the_notes() -> None:
    result = LoadResult(
        tool="wrk",
        connections=1,
        seconds=2.0,
        requests=3,
        statuses={"201": 3},
        errors=0,
        latency_ms={"p50": 1.23456},
        notes=["x"],
    )
    data = result.to_json()
    assert data["rate"] == 1.5
    assert data["ok_rate"] == 1.5
    assert data["latency_ms"] == {"p50": 1.235}
    assert data["notes"] == ["x"]


def test_load_result_json_has_its_share_of_the_peak_and_cpu_per_request() -> None:
    plain = LoadResult("wrk", 16, 1.0, 2000, {"200": 2000}, 0, {}).to_json()
    assert "peak_fraction" not in plain
    assert "cpu_seconds" not in plain
    result = LoadResult(
        "oha", 64, 1.0, 2000, {"200": 2000}, 0, {}, target_rate=150.0, peak_fraction=0.5
    )
    result.cpu_seconds = {"patients": 3.0, "postgres": 1.00004}
    data = result.to_json()
    assert data["peak_fraction"] == 0.5
    assert data["cpu_seconds"] == {"patients": 3.0, "postgres": 1.0}
    assert data["cpu_seconds_per_1000_requests"] == {"patients": 1.5, "postgres": 0.5}


def test_no_time_means_no_rate() -> None:
    empty = LoadResult("wrk", 1, 0.0, 0, {}, 0, {})
    assert (empty.rate, empty.ok_rate, empty.ok_fraction) == (0.0, 0.0, 0.0)
