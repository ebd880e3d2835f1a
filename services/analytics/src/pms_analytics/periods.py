"""Report periods: days, ISO weeks (Monday to Sunday) and calendar months, and the
buckets that cover a date range. Pure functions."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# The longest range a report answers, in buckets (a year of days, three years of
# weeks, ten years of months): bounded answers, bounded work.
MAX_BUCKETS = {Granularity.DAY: 366, Granularity.WEEK: 157, Granularity.MONTH: 120}
# The range when the client gives no ``from``: the last 30 days, 12 weeks or 12 months.
DEFAULT_BUCKETS = {Granularity.DAY: 30, Granularity.WEEK: 12, Granularity.MONTH: 12}


@dataclass(frozen=True)
class Bucket:
    """One period, first and last day included."""

    start: date
    end: date


def bucket_start(day: date, granularity: Granularity) -> date:
    """The first day of the period that contains ``day``."""
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def next_bucket_start(start: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return start + timedelta(weeks=1)
    if granularity is Granularity.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def shift_buckets(start: date, granularity: Granularity, count: int) -> date:
    """The start of the period ``count`` periods before the one starting at ``start``."""
    if granularity is Granularity.WEEK:
        return start - timedelta(weeks=count)
    if granularity is Granularity.MONTH:
        months = start.year * 12 + start.month - 1 - count
        return date(months // 12, months % 12 + 1, 1)
    return start - timedelta(days=count)


def buckets(first: date, last: date, granularity: Granularity) -> Iterator[Bucket]:
    """The whole periods that cover ``first`` to ``last`` (both included), in order."""
    start = bucket_start(first, granularity)
    while start <= last:
        following = next_bucket_start(start, granularity)
        yield Bucket(start, following - timedelta(days=1))
        start = following


def bucket_count(first: date, last: date, granularity: Granularity) -> int:
    """How many periods ``buckets(first, last, granularity)`` yields (0 if first > last)."""
    if first > last:
        return 0
    if granularity is Granularity.MONTH:
        return (last.year - first.year) * 12 + last.month - first.month + 1
    start, end = bucket_start(first, granularity), bucket_start(last, granularity)
    step = 7 if granularity is Granularity.WEEK else 1
    return (end - start).days // step + 1
