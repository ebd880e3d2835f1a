"""Request and response shapes, validated once here for both gRPC and REST.

Money is ``amountMinor``, a whole number of the currency's minor units (cents), and
``currency``, an ISO 4217 code: a JSON number with a fraction is refused, never rounded.
"""

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from pms_billing.currencies import is_known_currency
from pms_platform.errors import BadRequestError, field_errors

NAME_MAX = 100
EMAIL_MAX = 255
DESCRIPTION_MAX = 500
IDEMPOTENCY_KEY_MAX = 255
MAX_AMOUNT_MINOR = 10**12  # far below 2**53, so JSON clients read it exactly
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PRINTABLE_KEY = re.compile(r"^[\x21-\x7e]+$")

ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """``model`` from ``data`` (JSON names), or a 400 / INVALID_ARGUMENT with a field map."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequestError(
            "The request is not valid", errors=field_errors(error.errors())
        ) from None


def _uuid(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError("A UUID is required")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError("Must be a UUID") from None


Uuid = Annotated[uuid.UUID, BeforeValidator(_uuid)]


class _Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PatientRef(_Input):
    patient_id: Uuid


class InvoiceRef(_Input):
    invoice_id: Uuid


class NewAccount(_Input):
    """``BillingRequest`` of the original contract."""

    patient_id: Uuid
    name: str
    email: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("Name is required")
        if len(text) > NAME_MAX:
            raise ValueError(f"Name cannot exceed {NAME_MAX} characters")
        return text

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("Email is required")
        if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
            raise ValueError("Email should be valid")
        return text


class NewInvoice(_Input):
    amount_minor: StrictInt = Field(gt=0, le=MAX_AMOUNT_MINOR)
    currency: str
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    draft: StrictBool = False

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_known_currency(value):
            raise ValueError("Currency must be an ISO 4217 code in capitals, such as EUR")
        return value


class Payment(_Input):
    idempotency_key: str

    @field_validator("idempotency_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not value:
            raise ValueError("An idempotency key is required")
        if len(value) > IDEMPOTENCY_KEY_MAX or not _PRINTABLE_KEY.fullmatch(value):
            raise ValueError(
                f"The idempotency key must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters"
            )
        return value


class VoidRequest(_Input):
    reason: str = Field(default="", max_length=DESCRIPTION_MAX)


class InvoiceQuery(_Input):
    page_size: StrictInt = Field(default=0, ge=0)
    page_token: str = ""

    @property
    def limit(self) -> int:
        """Unset means the default; more than the maximum means the maximum."""
        return min(self.page_size or PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)


class _Output(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class AccountOut(_Output):
    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    email: str
    status: str
    created_at: datetime
    closed_at: datetime | None


class InvoiceOut(_Output):
    id: uuid.UUID
    account_id: uuid.UUID
    patient_id: uuid.UUID
    status: str
    amount_minor: int
    currency: str
    description: str
    created_at: datetime
    issued_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None
    payment_id: uuid.UUID | None


class InvoicePageOut(_Output):
    invoices: list[InvoiceOut]
    next_page_token: str | None = Field(
        description="Pass it as `pageToken` for the next page; null on the last page."
    )


class ProblemOut(BaseModel):
    """RFC 9457 problem details (documentation of the error answers)."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = Field(default=None, alias="requestId")
    errors: dict[str, str] | None = None
