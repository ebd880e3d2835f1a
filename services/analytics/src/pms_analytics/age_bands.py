"""Age bands, computed on the day of the question from dates of birth, so they follow
the calendar without any event. Pure functions.

A person's age goes up on their birthday; someone born on 29 February gets a year
older on 1 March in common years. Equivalently, on ``today`` a person is at least ``n``
years old when born on or before :func:`years_before` ``(today, n)``, which is how the
report's single ``GROUP BY`` sorts birth dates into bands.
"""

import calendar
import itertools
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class AgeBand:
    label: str
    min_age: int
    max_age: int | None  # None: no upper bound


AGE_BANDS = (
    AgeBand("0-17", 0, 17),
    AgeBand("18-34", 18, 34),
    AgeBand("35-49", 35, 49),
    AgeBand("50-64", 50, 64),
    AgeBand("65+", 65, None),
)


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February."""
    year = day.year - years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def age_on(born: date, day: date) -> int:
    """Completed years of life on ``day`` (negative for a birth date after ``day``)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band_for_age(age: int) -> AgeBand:
    """The band of ``age``; a negative age (a birth date in the future) counts as 0-17."""
    for band in reversed(AGE_BANDS):
        if age >= band.min_age:
            return band
    return AGE_BANDS[0]


def band_thresholds(today: date) -> list[tuple[AgeBand, date]]:
    """For each band but the last, the birth date after which a person is still in it:
    born after ``threshold`` -> this band (or an earlier one), on or before -> older."""
    return [
        (band, years_before(today, following.min_age))
        for band, following in itertools.pairwise(AGE_BANDS)
    ]


def band_for_birth_date(born: date, today: date) -> AgeBand:
    """The band by the thresholds (what the SQL does); equals ``band_for_age(age_on())``."""
    for band, threshold in band_thresholds(today):
        if born > threshold:
            return band
    return AGE_BANDS[-1]
