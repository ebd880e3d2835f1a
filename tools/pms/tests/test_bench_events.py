"""The lag of each created patient to the analytics summary counting it."""

import math
from types import SimpleNamespace
from typing import cast

from pms_cli.bench.events import EventsOutcome, Poll, lags_ms, summarize
from pms_cli.bench.kafka_probe import to_kafka_ms
from pms_cli.bench.loadgen import LoadResult
from pms_cli.bench.plan import BenchOptions
from pms_cli.bench.replay import rebuild_figures
from pms_cli.bench.report import render_markdown
from pms_cli.bench.run_context import BenchContext
from pms_cli.bench.scenario_results import ScenarioResult
from pms_cli.bench.scenarios import cpu_ms_per_request, half_peak_create_rate, steady_events_rate


def test_each_201_is_matched_to_the_first_later_poll_reaching_its_count() -> None:
    polls = [Poll(1.00, 10), Poll(1.05, 11), Poll(1.10, 11), Poll(1.20, 13)]
    created = [1.02, 1.01, 1.04]  # answer times, in any order; baseline 10
    lags, missing = lags_ms(created, polls, baseline=10)
    # 1st (1.01) seen at 1.05 (count 11); 2nd (1.02) needs 12 -> 1.20; 3rd (1.04) -> 1.20.
    assert [round(lag) for lag in lags] == [40, 180, 160]
    assert missing == 0


def test_a_count_never_reached_is_reported_as_missing() -> None:
    lags, missing = lags_ms([1.0, 1.1], [Poll(1.2, 6)], baseline=5)
    assert [round(lag) for lag in lags] == [200]
    assert missing == 1


def test_a_count_once_seen_stays_seen_even_if_a_later_poll_shows_less() -> None:
    polls = [Poll(1.0, 0), Poll(1.1, 2), Poll(1.2, 1), Poll(1.3, 2)]
    lags, _ = lags_ms([1.15, 1.16], polls, baseline=0)
    # Both need a poll after their answer showing >= 1 and >= 2: the one at 1.2 (its 1
    # is below the 2 already seen at 1.1, so it counts as 2).
    assert [round(lag) for lag in lags] == [50, 40]


def test_summary_reports_the_rate_kept_up_and_percentiles() -> None:
    outcome = EventsOutcome(rate=200.0, seconds=1.0, sent=4, created=4, baseline=0)
    outcome.first_sent, outcome.last_answer = 0.0, 2.0
    outcome.created_at = [0.5, 1.0, 1.5, 2.0]
    outcome.create_latencies_ms = [5.0, 5.0, 5.0, 5.0]
    outcome.polls = [Poll(0.6, 1), Poll(1.1, 2), Poll(1.6, 3), Poll(2.1, 4)]
    summary = summarize(outcome)
    assert summary["achieved_rate"] == 2.0  # 4 created over 2 s, not the 200/s asked
    assert summary["lag_ms"]["p50"] == 100.0
    assert summary["never_counted"] == 0
    assert summary["poll_period_ms"] == 500.0


def test_summary_without_creates_has_no_lag() -> None:
    summary = summarize(EventsOutcome(rate=1.0, seconds=1.0))
    assert math.isnan(summary["lag_ms"]["p99"])
    assert summary["lag_ms"]["max"] is None


def test_time_to_kafka_is_per_patient_and_may_be_negative() -> None:
    answered = {"a": 1.000, "b": 1.010, "c": 1.020}
    first_seen = {"a": 0.995, "b": 1.030}  # "a" was in Kafka before its 201 arrived
    result = to_kafka_ms(answered, first_seen)
    assert result["seen"] == 2
    assert result["not_seen"] == 1
    assert result["p50"] == 7.5  # the middle of -5 and 20


def _run_with_create_peak(peak: float | None, events_rate: float | None = None) -> BenchContext:
    scenarios = {}
    if peak is not None:
        create = ScenarioResult("create")
        create.runs.append(
            LoadResult("wrk", 16, 10.0, int(peak * 10), {"201": int(peak * 10)}, 0, {})
        )
        scenarios["create"] = create
    return cast(
        BenchContext,
        SimpleNamespace(options=BenchOptions(events_rate=events_rate), scenarios=scenarios),
    )


def test_the_events_rate_is_80_percent_of_the_runs_create_peak() -> None:
    assert steady_events_rate(_run_with_create_peak(170.0)) == 136.0


def test_an_events_rate_asked_for_wins_and_without_a_create_peak_it_is_100() -> None:
    assert steady_events_rate(_run_with_create_peak(170.0, events_rate=200.0)) == 200.0
    assert steady_events_rate(_run_with_create_peak(None)) == 100.0


def test_the_create_latency_is_measured_at_half_the_create_peak() -> None:
    assert half_peak_create_rate(_run_with_create_peak(170.0)) == 85.0
    assert half_peak_create_rate(_run_with_create_peak(None)) is None


def test_each_events_rate_has_its_own_cpu_per_create_in_the_report() -> None:
    cpu = cpu_ms_per_request({"patients": 0.52, "postgres": 0.31}, 200)
    assert cpu == {"patients": 2.6, "postgres": 1.55, "total": 4.15}
    assert cpu_ms_per_request({"patients": 1.0}, 0) == {}

    rate = {"target_rate": 171.0, "achieved_rate": 170.2, "lag_ms": {}, "cpu_ms_per_create": cpu}
    events = {"status": "measured", "by_rate": [rate]}
    page = render_markdown({"meta": {}, "scenarios": {"events": events}})

    assert "CPU per create 4.2 ms, all processes" in page


def test_the_replay_figures_come_from_the_rebuilds_last_line() -> None:
    output = "\n".join(
        [
            '{"event": "aggregates emptied; replaying", "partitions": 6}',
            "not json",
            '{"event": "rebuild finished", "seconds": 2.5, "applied": 60000,'
            ' "duplicate": 500, "dead_lettered": 300}',
        ]
    )
    assert rebuild_figures(output) == {
        "events": 60800,
        "applied": 60000,
        "seconds": 2.5,
        "events_per_second": 24320.0,
    }
    assert rebuild_figures('{"event": "aggregates emptied; replaying"}') is None
