"""The report parameters and the JSON shapes of the answers (camelCase).

The parameters are query models (``Annotated[RegistrationsParams, Query()]``), each field
typed as what it is after validation. A bad value raises :class:`InvalidReportError`
from the model's own validation: the platform's problem handler answers it with a 400
naming each field, in the original's words ("The report parameters are not valid").
``resolve(today)`` then fills in the default range and refuses a range that ends before
it starts or is too long for its granularity (the same error, on ``from`` or ``to``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from pms_analytics.aggregates import RegistrationBasis
from pms_analytics.periods import (
    DEFAULT_BUCKETS,
    MAX_BUCKETS,
    Granularity,
    bucket_count,
    bucket_start,
    shift_buckets,
)
from pms_platform.errors import BadRequestError, field_errors
from pms_platform.validation import (
    CURRENCY_CODE_PATTERN,
    RequestModel,
    is_currency_code,
    parse_iso_date,
)

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
_UNITS = {Granularity.DAY: "days", Granularity.WEEK: "weeks", Granularity.MONTH: "months"}

# --- Parameters -------------------------------------------------------------------


class InvalidReportError(BadRequestError):
    """Report parameters that are not valid: a 400 with a field -> message map."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("The report parameters are not valid", errors=errors)


def _report_day(value: object) -> object:
    """``from`` / ``to``: ``YYYY-MM-DD`` (:func:`parse_iso_date`), 1900 to 2999. An empty
    parameter is a malformed date here, not a missing one."""
    if not isinstance(value, str):
        return value  # None (absent) or a date already
    if not value.strip():
        raise ValueError("Must be a date in the form YYYY-MM-DD")
    day = parse_iso_date(value)
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"Must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return day


def _one_of(default: StrEnum) -> Any:
    """The validator of a choice: one of ``default``'s enum values; empty means ``default``
    (so the document lists the empty text among the choices)."""
    choices = type(default)
    documented: Any = Literal[(*(choice.value for choice in choices), "")]

    def check(value: object) -> object:
        if value is None or value == "":
            return default
        try:
            return choices(str(value))
        except ValueError:
            raise ValueError(f"Must be one of {', '.join(choices)}") from None

    return BeforeValidator(check, json_schema_input_type=documented)


def _currency_code(value: object) -> object:
    if value is not None and not (isinstance(value, str) and is_currency_code(value)):
        raise ValueError("Must be an ISO 4217 code in capitals, such as GBP")
    return value


# The days _report_day takes (1900 to 2999), as a pattern: a date of another year, or not
# YYYY-MM-DD, is a 400.
_DATE_SCHEMA: JsonDict = {
    "pattern": r"^(19\d\d|2\d{3})-\d{2}-\d{2}$",
    "format": "date",
    "examples": ["2026-01-31"],
}
FirstDay = Annotated[
    date | None,
    BeforeValidator(_report_day),
    Field(
        alias="from",
        description="First day (YYYY-MM-DD); default: 30 days, 12 weeks or 12 months back",
        json_schema_extra=_DATE_SCHEMA,
    ),
]
LastDay = Annotated[
    date | None,
    BeforeValidator(_report_day),
    Field(description="Last day (YYYY-MM-DD); default: today", json_schema_extra=_DATE_SCHEMA),
]
GranularityParam = Annotated[
    Granularity,
    _one_of(Granularity.DAY),
    Field(
        description="Bucket size: day (at most 366), week (ISO, at most 157) or month "
        "(at most 120); default day"
    ),
]


@dataclass(frozen=True)
class ReportRange:
    """The days a report covers (both included) and how they are grouped."""

    first: date
    last: date
    granularity: Granularity


def report_range(
    first: date | None, last: date | None, granularity: Granularity, today: date
) -> ReportRange:
    """The range asked for, ``to`` defaulting to ``today`` and ``from`` to the start of
    the period 30 days, 12 weeks or 12 months back (this one included)."""
    end = last or today
    start = first or shift_buckets(
        bucket_start(end, granularity), granularity, DEFAULT_BUCKETS[granularity] - 1
    )
    if start > end:
        raise InvalidReportError({"from": "Must not be after to"})
    limit = MAX_BUCKETS[granularity]
    if bucket_count(start, end, granularity) > limit:
        unit = _UNITS[granularity]
        too_long = f"The range is too long for {granularity} granularity: at most {limit} {unit}"
        raise InvalidReportError({"to": too_long})
    return ReportRange(start, end, granularity)


@dataclass(frozen=True)
class RegistrationsQuery:
    range: ReportRange
    basis: RegistrationBasis


@dataclass(frozen=True)
class RevenueQuery:
    range: ReportRange
    currency: str | None


class _ReportParams(RequestModel):
    """Query parameters of a report. Each model declares its own parameter first: the
    errors are listed in the order of the fields, as they always were."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _in_the_reports_words(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as error:
            raise InvalidReportError(field_errors(error.errors())) from None


class RegistrationsParams(_ReportParams):
    by: Annotated[
        RegistrationBasis,
        _one_of(RegistrationBasis.REGISTERED),
        Field(
            description="Count by the patient's registered date (default) or by the date "
            "of the creation event"
        ),
    ] = RegistrationBasis.REGISTERED
    from_: FirstDay = None
    to: LastDay = None
    granularity: GranularityParam = Granularity.DAY

    def resolve(self, today: date) -> RegistrationsQuery:
        return RegistrationsQuery(
            report_range(self.from_, self.to, self.granularity, today), self.by
        )


class RevenueParams(_ReportParams):
    currency: Annotated[
        str | None,
        BeforeValidator(_currency_code),
        Field(
            description="Only this ISO 4217 currency (e.g. GBP)",
            json_schema_extra={"pattern": CURRENCY_CODE_PATTERN.pattern},
        ),
    ] = None
    from_: FirstDay = None
    to: LastDay = None
    granularity: GranularityParam = Granularity.DAY

    def resolve(self, today: date) -> RevenueQuery:
        return RevenueQuery(
            report_range(self.from_, self.to, self.granularity, today), self.currency
        )


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
