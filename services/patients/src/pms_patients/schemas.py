"""Request and response shapes of the patients API, with the original's field names and
validation messages (``Name is required``...), so its clients keep working.

Request models are typed as what they are after validation (a date of birth is a
:class:`datetime.date`), with the shared validators of :mod:`pms_platform.validation`:
a malformed date is a 400 with the field's own message rather than a generic type error
(the original answered 500). The query parameters of the lists are models too
(:class:`PatientListQuery`, :class:`AuditLogQuery`), so a bad one is the same 400.
"""

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from pms_platform.validation import (
    WHEN_MISSING,
    RequestModel,
    email_address,
    iso_date,
    optional_iso_date,
    required_text,
)

NAME_MAX = 100
ADDRESS_MAX = 255
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# RFC 3339's date-time (what a document's ``format: date-time`` means); pydantic alone
# would also take a bare number as seconds since 1970, or a time without its offset.
RFC_3339_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _today() -> date:
    return datetime.now(UTC).date()


def _birth_date(born: date) -> date:
    if born > _today():
        raise ValueError("Date of birth cannot be in the future")
    if born < EARLIEST_BIRTH_DATE:
        raise ValueError("Date of birth cannot be before 1900-01-01")
    return born


def _registration(registered: date, info: ValidationInfo) -> date:
    """A registered date cannot be in the future or before the birth date (``info.data``
    holds the fields validated before it, the date of birth among them when valid)."""
    if registered > _today():
        raise ValueError("Registered date cannot be in the future")
    born: date | None = info.data.get("date_of_birth")
    if born is not None and registered < born:
        raise ValueError("Registered date cannot be before the date of birth")
    return registered


def _date_time(value: object) -> object:
    if isinstance(value, str) and not RFC_3339_DATE_TIME.fullmatch(value.strip()):
        raise ValueError("Must be a date and time with its offset, such as 2026-01-31T09:00:00Z")
    return value


DateTimeParam = Annotated[datetime | None, BeforeValidator(_date_time)]

_camel = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PatientFields(RequestModel):
    """The fields a client writes, validated with the original's messages."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: Annotated[str, WHEN_MISSING, required_text("Name", NAME_MAX)]
    email: Annotated[str, WHEN_MISSING, email_address()]
    address: Annotated[str, WHEN_MISSING, required_text("Address", ADDRESS_MAX)]
    date_of_birth: Annotated[
        date,
        WHEN_MISSING,
        iso_date("Date of birth"),
        AfterValidator(_birth_date),
        Field(
            description="From 1900-01-01 to today",
            json_schema_extra={"pattern": r"^(19\d\d|[2-9]\d{3})-\d{2}-\d{2}$"},
        ),
    ]


REGISTERED_DATE_RULE = "Not in the future, not before the date of birth"


class PatientCreate(PatientFields):
    registered_date: Annotated[
        date, WHEN_MISSING, iso_date("Registered date"), Field(description=REGISTERED_DATE_RULE)
    ]

    @field_validator("registered_date")
    @classmethod
    def _registered_date(cls, value: date, info: ValidationInfo) -> date:
        return _registration(value, info)


class PatientUpdate(PatientFields):
    """A full replacement (PUT); the registered date may be left out to keep it."""

    registered_date: Annotated[
        date | None,
        optional_iso_date("Registered date"),
        Field(description=REGISTERED_DATE_RULE + "; left out, it stays as it is"),
    ] = None

    @field_validator("registered_date")
    @classmethod
    def _registered_date(cls, value: date | None, info: ValidationInfo) -> date | None:
        return None if value is None else _registration(value, info)


SortKey = Literal[
    "name",
    "-name",
    "email",
    "-email",
    "dateOfBirth",
    "-dateOfBirth",
    "registeredDate",
    "-registeredDate",
]


class PageQuery(RequestModel):
    """``?page=&size=`` of a paged list."""

    page: int = Field(default=1, ge=1, le=1_000_000, description="Page number, from 1")
    size: int = Field(default=50, ge=1, le=500, description="Rows per page, at most 500")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


class PatientListQuery(PageQuery):
    """``GET /patients``: a page, a search term (name or email) and a sort key."""

    search: str | None = Field(default=None, max_length=100)
    sort: SortKey = "name"


class AuditLogQuery(PageQuery):
    """``GET /audit``: a page of the audit log, filtered by patient, user, action and time."""

    model_config = ConfigDict(populate_by_name=True)

    patient_id: uuid.UUID | None = Field(
        default=None, alias="patientId", description="Entries about this patient"
    )
    user_id: str | None = Field(default=None, alias="userId", max_length=64)
    action: str | None = Field(default=None, max_length=32)
    since: DateTimeParam = Field(default=None, description="From this time on (RFC 3339)")
    until: DateTimeParam = Field(default=None, description="Before this time (RFC 3339)")


class PatientOut(BaseModel):
    model_config = _camel

    id: uuid.UUID
    name: str
    email: str
    address: str
    date_of_birth: date
    registered_date: date
    created_at: datetime
    updated_at: datetime
    billing_account_id: str | None
    billing_status: str


# The JSON names of PatientOut's fields, in its order: a row of the repository's
# ``PATIENT_COLUMNS`` is encoded by pairing its values with these, by position.
PATIENT_FIELDS = tuple(field.alias or name for name, field in PatientOut.model_fields.items())


def patient_json(row: Sequence[Any]) -> bytes:
    """One patient row as the JSON of :class:`PatientOut`, byte for byte (dates and
    UTC times alike: ``...Z``), without building the model (a test holds them equal)."""
    return orjson.dumps(dict(zip(PATIENT_FIELDS, row, strict=False)), option=orjson.OPT_UTC_Z)


def patients_json(rows: Iterable[Sequence[Any]]) -> bytes:
    """A list of patient rows as the JSON array of :class:`PatientOut` (see above)."""
    objects = [dict(zip(PATIENT_FIELDS, row, strict=False)) for row in rows]
    return orjson.dumps(objects, option=orjson.OPT_UTC_Z)


class AuditEntryOut(BaseModel):
    model_config = _camel

    id: int
    occurred_at: datetime
    user_id: str
    user_email: str
    user_role: str
    action: str
    patient_ids: list[uuid.UUID]
    query: str | None
    outcome: str
    request_id: str | None
