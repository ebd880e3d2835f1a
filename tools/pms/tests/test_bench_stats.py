"""Percentiles, ratios and the fixed rates derived from a peak."""

import math

import pytest

from pms_cli.bench.stats import (
    fixed_rates,
    fixed_rates_with_fractions,
    per_thousand,
    percentile,
    ratio,
)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 99) == pytest.approx(39.7)
    assert percentile([5.0], 99) == 5.0


def test_percentile_ignores_input_order_and_is_nan_for_nothing() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert math.isnan(percentile([], 50))


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_ratio_is_none_when_it_would_mean_nothing() -> None:
    assert ratio(60.0, 100.0) == 0.6
    assert ratio(None, 100.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None
    assert ratio(math.nan, 1.0) is None


def test_cpu_seconds_per_thousand_requests() -> None:
    assert per_thousand(2.9, 10_000) == pytest.approx(0.29)
    assert per_thousand(1.0, 0) is None


def test_fixed_rates_are_fractions_of_the_peak_rounded_sorted_and_distinct() -> None:
    assert fixed_rates(400.0, (0.9, 0.25, 0.5)) == [100.0, 200.0, 360.0]
    assert fixed_rates(2.0, (0.1, 0.2)) == [1.0]


def test_fixed_rates_with_fractions_keep_the_targets_fraction_when_rates_coincide() -> None:
    assert fixed_rates_with_fractions(400.0, (0.9, 0.5)) == [(200.0, 0.5), (360.0, 0.9)]
    assert fixed_rates_with_fractions(2.0, (0.1, 0.5, 0.2), keep=0.5) == [(1.0, 0.5)]
    assert fixed_rates_with_fractions(2.0, (0.1, 0.5, 0.2)) == [(1.0, 0.1)]
