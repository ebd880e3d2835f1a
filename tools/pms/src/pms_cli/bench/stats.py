"""Small numeric helpers: percentiles, ratios, rates (pure, unit-tested)."""

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks
    (numpy's default); ``nan`` for no values."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] * (1 - weight) + ordered[upper] * weight)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or ``None`` when either is missing or the denominator
    is not positive (a ratio of nothing is not zero)."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    if math.isnan(numerator) or math.isnan(denominator):
        return None
    return numerator / denominator


def per_thousand(cpu_seconds: float, requests: int) -> float | None:
    """CPU seconds spent per 1,000 requests."""
    if requests <= 0:
        return None
    return cpu_seconds * 1000 / requests


def fixed_rates(peak: float, fractions: Sequence[float], minimum: float = 1.0) -> list[float]:
    """Request rates at ``fractions`` of a measured closed-loop ``peak``, rounded to whole
    requests per second, at least ``minimum``, without duplicates, ascending."""
    return [rate for rate, _ in fixed_rates_with_fractions(peak, fractions, minimum=minimum)]


def fixed_rates_with_fractions(
    peak: float, fractions: Sequence[float], *, keep: float | None = None, minimum: float = 1.0
) -> list[tuple[float, float]]:
    """``(rate, fraction)`` for each distinct rate of :func:`fixed_rates`, ascending. When
    several fractions round to one rate, the run stands for ``keep`` if it is one of them
    (the target's fraction must not be lost to a neighbour), else for the smallest."""
    by_rate: dict[float, float] = {}
    for fraction in sorted(fractions):
        rate = max(minimum, float(round(peak * fraction)))
        if rate not in by_rate or fraction == keep:
            by_rate[rate] = fraction
    return sorted(by_rate.items())
