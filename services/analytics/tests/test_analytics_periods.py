"""Date buckets: ISO weeks from Monday, calendar months, counts of buckets."""

from datetime import date

import pytest

from pms_analytics.periods import (
    Bucket,
    Granularity,
    bucket_count,
    bucket_start,
    buckets,
    shift_buckets,
)


@pytest.mark.parametrize(
    ("day", "granularity", "start"),
    [
        (date(2026, 1, 7), Granularity.DAY, date(2026, 1, 7)),
        (date(2026, 1, 7), Granularity.WEEK, date(2026, 1, 5)),  # a Wednesday
        (date(2026, 1, 5), Granularity.WEEK, date(2026, 1, 5)),  # a Monday
        (date(2026, 1, 4), Granularity.WEEK, date(2025, 12, 29)),  # a Sunday, across years
        (date(2026, 1, 31), Granularity.MONTH, date(2026, 1, 1)),
        (date(2024, 2, 29), Granularity.MONTH, date(2024, 2, 1)),
    ],
)
def test_a_day_belongs_to_the_bucket_starting_on_monday_or_the_first(
    day: date, granularity: Granularity, start: date
) -> None:
    assert bucket_start(day, granularity) == start


def test_monthly_buckets_end_on_the_last_day_of_each_month_across_a_year_end() -> None:
    assert list(buckets(date(2025, 11, 15), date(2026, 2, 3), Granularity.MONTH)) == [
        Bucket(date(2025, 11, 1), date(2025, 11, 30)),
        Bucket(date(2025, 12, 1), date(2025, 12, 31)),
        Bucket(date(2026, 1, 1), date(2026, 1, 31)),
        Bucket(date(2026, 2, 1), date(2026, 2, 28)),
    ]


def test_weekly_buckets_are_whole_iso_weeks_covering_the_range() -> None:
    assert list(buckets(date(2026, 1, 1), date(2026, 1, 12), Granularity.WEEK)) == [
        Bucket(date(2025, 12, 29), date(2026, 1, 4)),
        Bucket(date(2026, 1, 5), date(2026, 1, 11)),
        Bucket(date(2026, 1, 12), date(2026, 1, 18)),
    ]


def test_daily_buckets_are_single_days() -> None:
    assert list(buckets(date(2024, 2, 28), date(2024, 3, 1), Granularity.DAY)) == [
        Bucket(date(2024, 2, 28), date(2024, 2, 28)),
        Bucket(date(2024, 2, 29), date(2024, 2, 29)),
        Bucket(date(2024, 3, 1), date(2024, 3, 1)),
    ]


@pytest.mark.parametrize("granularity", list(Granularity))
def test_the_bucket_count_matches_the_buckets_produced(granularity: Granularity) -> None:
    first = date(2023, 12, 30)
    for last in (date(2023, 12, 30), date(2024, 1, 1), date(2024, 2, 29), date(2026, 7, 4)):
        assert bucket_count(first, last, granularity) == len(
            list(buckets(first, last, granularity))
        )
    assert bucket_count(date(2026, 1, 2), date(2026, 1, 1), granularity) == 0


def test_shifting_back_whole_buckets() -> None:
    assert shift_buckets(date(2026, 3, 1), Granularity.MONTH, 11) == date(2025, 4, 1)
    assert shift_buckets(date(2026, 1, 1), Granularity.MONTH, 1) == date(2025, 12, 1)
    assert shift_buckets(date(2026, 1, 5), Granularity.WEEK, 2) == date(2025, 12, 22)
    assert shift_buckets(date(2026, 3, 1), Granularity.DAY, 1) == date(2026, 2, 28)
