"""Age bands at their boundaries: birthdays, leap days, the bands' edges."""

import itertools
from datetime import date, timedelta

import pytest

from pms_analytics.age_bands import (
    AGE_BANDS,
    age_on,
    band_for_age,
    band_for_birth_date,
    years_before,
)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0-17"),
        (17, "0-17"),
        (18, "18-34"),
        (34, "18-34"),
        (35, "35-49"),
        (49, "35-49"),
        (50, "50-64"),
        (64, "50-64"),
        (65, "65+"),
        (120, "65+"),
        (-1, "0-17"),
    ],
)
def test_each_age_falls_in_its_band_at_both_edges(age: int, band: str) -> None:
    assert band_for_age(age).label == band


def test_a_person_turns_18_on_their_birthday_and_not_the_day_before() -> None:
    born = date(2008, 6, 15)

    assert band_for_birth_date(born, date(2026, 6, 14)).label == "0-17"
    assert band_for_birth_date(born, date(2026, 6, 15)).label == "18-34"


def test_a_leap_day_baby_gets_older_on_the_first_of_march_in_common_years() -> None:
    born = date(2008, 2, 29)

    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    assert band_for_birth_date(born, date(2026, 2, 28)).label == "0-17"
    assert band_for_birth_date(born, date(2026, 3, 1)).label == "18-34"
    # In a leap year, on the day itself.
    assert band_for_birth_date(date(2010, 2, 28), date(2028, 2, 29)).label == "18-34"


def test_years_before_a_leap_day_lands_on_the_28th_of_february_in_a_common_year() -> None:
    assert years_before(date(2028, 2, 29), 18) == date(2010, 2, 28)
    assert years_before(date(2028, 2, 29), 28) == date(2000, 2, 29)
    assert years_before(date(2026, 11, 25), 65) == date(1961, 11, 25)


def test_the_thresholds_used_by_the_query_agree_with_the_age_on_every_day() -> None:
    today = date(2028, 2, 29)
    born = date(1940, 1, 1)
    while born <= today + timedelta(days=400):  # includes birth dates in the future
        assert band_for_birth_date(born, today) == band_for_age(age_on(born, today)), born
        born += timedelta(days=1)


def test_the_bands_cover_every_age_without_gaps() -> None:
    for band, following in itertools.pairwise(AGE_BANDS):
        assert band.max_age is not None
        assert following.min_age == band.max_age + 1
    assert AGE_BANDS[0].min_age == 0
    assert AGE_BANDS[-1].max_age is None
