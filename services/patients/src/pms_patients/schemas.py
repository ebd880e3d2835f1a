"""Request and response shapes of the patients API, with the original's field names and
validation messages (``Name is required``...), so its clients keep working.

Dates arrive as strings and are parsed here, so that a malformed date is a 400 with the
field's own message rather than a generic type error (the original answered 500).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

NAME_MAX = 100
EMAIL_MAX = 255
ADDRESS_MAX = 255
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _today() -> date:
    return datetime.now(UTC).date()


def parse_iso_date(value: str | None, label: str) -> date:
    """``YYYY-MM-DD`` only (``date.fromisoformat`` would also take week dates)."""
    if value is None or not value.strip():
        raise ValueError(f"{label} is required")
    if not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError(f"{label} must be a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{label} must be a valid calendar date") from None


def _required_text(value: str | None, label: str, maximum: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{label} is required")
    if len(text) > maximum:
        raise ValueError(f"{label} cannot exceed {maximum} characters")
    return text


_camel = ConfigDict(alias_generator=to_camel, populate_by_name=True)
OptionalText = Annotated[str | None, Field(default=None, validate_default=True)]


class PatientFields(BaseModel):
    """The fields a client writes, validated with the original's messages."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: OptionalText
    email: OptionalText
    address: OptionalText
    date_of_birth: OptionalText

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str:
        return _required_text(value, "Name", NAME_MAX)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str:
        text = (value or "").strip()
        if not text:
            raise ValueError("Email is required")
        if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
            raise ValueError("Email should be valid")
        return text

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str:
        return _required_text(value, "Address", ADDRESS_MAX)

    @field_validator("date_of_birth")
    @classmethod
    def _date_of_birth(cls, value: str | None) -> str:
        born = parse_iso_date(value, "Date of birth")
        if born > _today():
            raise ValueError("Date of birth cannot be in the future")
        if born < EARLIEST_BIRTH_DATE:
            raise ValueError("Date of birth cannot be before 1900-01-01")
        return born.isoformat()

    def values(self) -> "PatientValues":
        """The validated fields, typed (validation guarantees every one is present)."""
        registered: str | None = getattr(self, "registered_date", None)
        return PatientValues(
            name=str(self.name),
            email=str(self.email),
            address=str(self.address),
            date_of_birth=date.fromisoformat(str(self.date_of_birth)),
            registered_date=date.fromisoformat(registered) if registered else None,
        )


@dataclass(frozen=True)
class PatientValues:
    name: str
    email: str
    address: str
    date_of_birth: date
    registered_date: date | None


def _registration(value: str, info: ValidationInfo) -> str:
    """Parse a registered date; it cannot be in the future or before the birth date
    (``info.data`` holds the fields validated before it, the date of birth among them)."""
    registered = parse_iso_date(value, "Registered date")
    if registered > _today():
        raise ValueError("Registered date cannot be in the future")
    born = info.data.get("date_of_birth")
    if born is not None and registered < date.fromisoformat(born):
        raise ValueError("Registered date cannot be before the date of birth")
    return registered.isoformat()


class PatientCreate(PatientFields):
    registered_date: OptionalText

    @field_validator("registered_date")
    @classmethod
    def _registered_date(cls, value: str | None, info: ValidationInfo) -> str:
        if value is None or not value.strip():
            raise ValueError("Registered date is required")
        return _registration(value, info)


class PatientUpdate(PatientFields):
    """A full replacement (PUT); the registered date may be left out to keep it."""

    registered_date: str | None = None

    @field_validator("registered_date")
    @classmethod
    def _registered_date(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _registration(value, info)


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
