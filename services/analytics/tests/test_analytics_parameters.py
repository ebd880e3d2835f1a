"""Report parameters: defaults, malformed values and ranges too long for their
granularity, each reported under its own field."""

from datetime import date

import pytest

from pms_analytics.aggregates import RegistrationBasis
from pms_analytics.periods import Granularity
from pms_analytics.schemas import (
    RegistrationsParams,
    RegistrationsQuery,
    ReportRange,
    RevenueParams,
    RevenueQuery,
)
from pms_platform.errors import BadRequestError

TODAY = date(2026, 11, 25)  # a Wednesday


def _given(**params: str | None) -> dict[str, str]:
    """The query string's parameters (an absent one, ``None``, is not in it)."""
    return {name.rstrip("_"): value for name, value in params.items() if value is not None}


def parse_registrations_query(
    first: str | None, last: str | None, granularity: str | None, by: str | None, today: date
) -> RegistrationsQuery:
    """What the registrations route does: its query model, resolved on ``today``."""
    params = _given(from_=first, to=last, granularity=granularity, by=by)
    return RegistrationsParams.model_validate(params).resolve(today)


def parse_revenue_query(
    first: str | None, last: str | None, granularity: str | None, currency: str | None, today: date
) -> RevenueQuery:
    """What the revenue route does: its query model, resolved on ``today``."""
    params = _given(from_=first, to=last, granularity=granularity, currency=currency)
    return RevenueParams.model_validate(params).resolve(today)


def errors_of(
    first: str | None = None,
    last: str | None = None,
    granularity: str | None = None,
    by: str | None = None,
) -> dict[str, str]:
    with pytest.raises(BadRequestError) as raised:
        parse_registrations_query(first, last, granularity, by, TODAY)
    assert raised.value.status == 400
    return raised.value.errors or {}


def test_without_parameters_the_last_30_days_by_registered_date() -> None:
    assert parse_registrations_query(None, None, None, None, TODAY) == RegistrationsQuery(
        ReportRange(date(2026, 10, 27), TODAY, Granularity.DAY), RegistrationBasis.REGISTERED
    )


def test_the_default_range_is_12_whole_weeks_or_12_whole_months_back() -> None:
    weeks = parse_registrations_query(None, None, "week", "event", TODAY)
    months = parse_revenue_query(None, "2026-03-10", "month", None, TODAY)

    assert weeks.range == ReportRange(date(2026, 9, 7), TODAY, Granularity.WEEK)
    assert weeks.basis is RegistrationBasis.EVENT
    assert months == RevenueQuery(
        ReportRange(date(2025, 4, 1), date(2026, 3, 10), Granularity.MONTH), None
    )


@pytest.mark.parametrize("value", ["2026-1-5", "05/01/2026", "2026-W02-1", "yesterday", ""])
def test_a_malformed_date_is_refused(value: str) -> None:
    assert errors_of(first=value) == {"from": "Must be a date in the form YYYY-MM-DD"}


def test_an_impossible_date_and_an_out_of_range_year_are_refused() -> None:
    assert errors_of(first="2026-02-30", last="0001-01-01") == {
        "from": "Must be a valid calendar date",
        "to": "Must be between 1900-01-01 and 2999-12-31",
    }


def test_from_after_to_is_refused() -> None:
    assert errors_of("2026-02-02", "2026-02-01") == {"from": "Must not be after to"}


@pytest.mark.parametrize(
    ("granularity", "longest_to", "too_long_to", "limit"),
    [
        ("day", "2027-01-01", "2027-01-02", "366 days"),
        ("week", "2028-12-31", "2029-01-01", "157 weeks"),  # 2025-12-29 + 157 weeks - 1 day
        ("month", "2035-12-31", "2036-01-01", "120 months"),
    ],
)
def test_a_range_longer_than_the_granularity_allows_is_refused(
    granularity: str, longest_to: str, too_long_to: str, limit: str
) -> None:
    parse_registrations_query("2026-01-01", longest_to, granularity, None, TODAY)

    assert errors_of("2026-01-01", too_long_to, granularity) == {
        "to": f"The range is too long for {granularity} granularity: at most {limit}"
    }


def test_an_unknown_granularity_and_basis_are_refused_together() -> None:
    assert errors_of(granularity="year", by="birthday") == {
        "granularity": "Must be one of day, week, month",
        "by": "Must be one of registered, event",
    }


@pytest.mark.parametrize("currency", ["gbp", "GB", "GBPX", "12A", ""])
def test_a_currency_that_is_not_a_capitalised_iso_code_is_refused(currency: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        parse_revenue_query(None, None, None, currency, TODAY)
    assert raised.value.errors == {"currency": "Must be an ISO 4217 code in capitals, such as GBP"}
