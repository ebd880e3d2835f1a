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
    rates = {max(minimum, float(round(peak * fraction))) for fraction in fractions}
    return sorted(rates)
