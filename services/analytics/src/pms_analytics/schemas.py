"""Report parameters (parsed here, so every bad one is a 400 naming its field) and the
JSON shapes of the answers (camelCase)."""

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from pms_analytics.aggregates import RegistrationBasis
from pms_analytics.periods import (
    DEFAULT_BUCKETS,
    MAX_BUCKETS,
    Granularity,
    bucket_count,
    bucket_start,
    shift_buckets,
)
from pms_platform.errors import BadRequestError

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_UNITS = {Granularity.DAY: "days", Granularity.WEEK: "weeks", Granularity.MONTH: "months"}

# --- Parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRange:
    """The days a report covers (both included) and how they are grouped."""

    first: date
    last: date
    granularity: Granularity


@dataclass(frozen=True)
class RegistrationsQuery:
    range: ReportRange
    basis: RegistrationBasis


@dataclass(frozen=True)
class RevenueQuery:
    range: ReportRange
    currency: str | None


def parse_day(value: str) -> date:
    """``YYYY-MM-DD`` only, between 1900 and 2999 (``ValueError`` says what is wrong)."""
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError("Must be a date in the form YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError("Must be a valid calendar date") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"Must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return day


def _parse_range(
    first: str | None, last: str | None, granularity: str | None, today: date
) -> ReportRange | dict[str, str]:
    """The range, or the field errors that prevent it.

    ``to`` defaults to today; ``from`` to the start of the period 30 days, 12 weeks or 12
    months back (this one included).
    """
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {"from": None, "to": None}
    for field, value in (("from", first), ("to", last)):
        if value is not None:
            try:
                days[field] = parse_day(value)
            except ValueError as error:
                errors[field] = str(error)
    try:
        grouping = Granularity(granularity or Granularity.DAY)
    except ValueError:
        errors["granularity"] = "Must be one of day, week, month"
        return errors
    if errors:
        return errors
    end = days["to"] or today
    start = days["from"] or shift_buckets(
        bucket_start(end, grouping), grouping, DEFAULT_BUCKETS[grouping] - 1
    )
    if start > end:
        return {"from": "Must not be after to"}
    limit = MAX_BUCKETS[grouping]
    if bucket_count(start, end, grouping) > limit:
        unit = _UNITS[grouping]
        return {"to": f"The range is too long for {grouping} granularity: at most {limit} {unit}"}
    return ReportRange(start, end, grouping)


def _invalid(errors: dict[str, str]) -> BadRequestError:
    return BadRequestError("The report parameters are not valid", errors=errors)


def parse_registrations_query(
    first: str | None, last: str | None, granularity: str | None, by: str | None, today: date
) -> RegistrationsQuery:
    errors: dict[str, str] = {}
    basis = None
    try:
        basis = RegistrationBasis(by or RegistrationBasis.REGISTERED)
    except ValueError:
        errors["by"] = "Must be one of registered, event"
    report_range = _parse_range(first, last, granularity, today)
    if isinstance(report_range, dict):
        errors.update(report_range)
    if errors or basis is None or isinstance(report_range, dict):
        raise _invalid(errors)
    return RegistrationsQuery(report_range, basis)


def parse_revenue_query(
    first: str | None, last: str | None, granularity: str | None, currency: str | None, today: date
) -> RevenueQuery:
    errors: dict[str, str] = {}
    if currency is not None and not _CURRENCY.fullmatch(currency):
        errors["currency"] = "Must be an ISO 4217 code in capitals, such as GBP"
    report_range = _parse_range(first, last, granularity, today)
    if isinstance(report_range, dict):
        errors.update(report_range)
    if errors or isinstance(report_range, dict):
        raise _invalid(errors)
    return RevenueQuery(report_range, currency)


# --- Answers ----------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PatientTotals(_Out):
    active: int = Field(description="Patients created or updated and not deleted since")
    created: int
    updated: int
    deleted: int


class InvoiceFigures(_Out):
    """Invoice counts and amounts (minor units of the currency, e.g. pence)."""

    issued_count: int = 0
    issued_minor: int = 0
    paid_count: int = 0
    paid_minor: int = 0
    voided_count: int = 0
    voided_minor: int = 0


class CurrencyFigures(InvoiceFigures):
    currency: str


class BillingTotals(_Out):
    accounts_open: int
    accounts_closed: int
    invoices_issued: int
    invoices_paid: int
    invoices_voided: int
    amounts: list[CurrencyFigures] = Field(description="All-time amounts per currency")


class SummaryOut(_Out):
    patients: PatientTotals
    billing: BillingTotals


class RegistrationBucket(_Out):
    """One period; the first and last count only the days inside the asked range."""

    start: date
    end: date
    count: int


class RegistrationsOut(_Out):
    from_: date = Field(alias="from")
    to: date
    granularity: Granularity
    by: RegistrationBasis
    total: int
    buckets: list[RegistrationBucket]


class AgeBandOut(_Out):
    band: str
    min_age: int
    max_age: int | None
    count: int


class DemographicsOut(_Out):
    as_of: date = Field(description="The day the ages are computed for (UTC)")
    active_patients: int
    age_bands: list[AgeBandOut]
    unknown_age: int = Field(description="Active patients whose date of birth is unknown")


class RevenueBucket(InvoiceFigures):
    start: date
    end: date


class CurrencyRevenue(CurrencyFigures):
    buckets: list[RevenueBucket]


class RevenueOut(_Out):
    from_: date = Field(alias="from")
    to: date
    granularity: Granularity
    currency: str | None
    currencies: list[CurrencyRevenue]


class ProblemOut(BaseModel):
    """RFC 9457 problem details (documentation of the error answers)."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = Field(default=None, alias="requestId")
    errors: dict[str, str] | None = None
