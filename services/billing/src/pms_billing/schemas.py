"""Billing's request and response shapes: the request models (validated once here for
gRPC, REST and the patient events, typed as what they are after validation), the
REST query string of the invoice listing, and the response models.

Money is ``amountMinor``, a whole number of the currency's minor units (cents), and
``currency``, an ISO 4217 code: a JSON number with a fraction is refused, never rounded
(``12.0`` is 12).
Names and email addresses use the shared validators (``pms_platform.validation``).
"""

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    field_validator,
)
from pydantic.alias_generators import to_camel

from pms_billing.currencies import ISO_4217_CODES, is_known_currency
from pms_platform.validation import WHEN_MISSING, RequestModel, email_address, required_text

NAME_MAX = 100
DESCRIPTION_MAX = 500
IDEMPOTENCY_KEY_MAX = 255
MAX_AMOUNT_MINOR = 10**12  # far below 2**53, so JSON clients read it exactly
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
REST_PAGE_SIZE_MAX = 10_000  # refused above this over REST; served as PAGE_SIZE_MAX
REST_PAGE_TOKEN_MAX = 200
_PRINTABLE_KEY = re.compile(r"^[\x21-\x7e]+$")
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": IDEMPOTENCY_KEY_MAX,
    "pattern": _PRINTABLE_KEY.pattern,
}
"""What :class:`Payment` takes as a key (printable ASCII, no spaces), as a document says it."""
# What ``encode_page_token`` writes: unpadded base64url.
PAGE_TOKEN_PATTERN = r"^[A-Za-z0-9_-]*$"  # noqa: S105 - a pattern, not a password


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


class _Input(RequestModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PatientRef(_Input):
    patient_id: Uuid


class InvoiceRef(_Input):
    invoice_id: Uuid


class NewAccount(_Input):
    """``BillingRequest`` of the original contract."""

    patient_id: Uuid
    name: Annotated[str, WHEN_MISSING, required_text("Name", NAME_MAX)]
    email: Annotated[str, WHEN_MISSING, email_address()]


def _whole_number(value: object) -> object:
    """``12.0`` is the integer 12 in JSON (and to a JSON Schema's ``integer``): taken as
    such; ``12.5``, a string or a boolean stays refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]


class NewInvoice(_Input):
    amount_minor: WholeNumber = Field(gt=0, le=MAX_AMOUNT_MINOR)
    currency: str = Field(
        description="An ISO 4217 code of money in circulation, in capitals",
        json_schema_extra={"enum": list[JsonValue](sorted(ISO_4217_CODES))},
    )
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
    """A page of a patient's invoices (``ListInvoicesRequest``). ``pageToken`` is the
    service's opaque cursor, passed through as it came (the service reads it)."""

    page_size: StrictInt = Field(default=0, ge=0)
    page_token: str = ""

    @property
    def limit(self) -> int:
        """Unset means the default; more than the maximum means the maximum."""
        return min(self.page_size or PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)


class InvoiceListParams(InvoiceQuery):
    """The query string of ``GET /billing/accounts/{patientId}/invoices``: text to be
    read as a number, bounded, known by the JSON names only, other parameters ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=False)

    # The titles are the ones the OpenAPI document showed for the former plain parameters.
    page_size: int = Field(default=0, ge=0, le=REST_PAGE_SIZE_MAX, title="Pagesize")
    page_token: str = Field(
        default="",
        max_length=REST_PAGE_TOKEN_MAX,
        title="Pagetoken",
        description="The `nextPageToken` of the page before; a token this service did not "
        "issue is a 400",
        # Documented only: the service's own check says "The page token is not valid".
        json_schema_extra={"pattern": PAGE_TOKEN_PATTERN},
    )


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
