"""Shared input validation: the validators and messages every service uses.

One idiom everywhere: a request field is typed as what it is after validation and
carries its validator in ``Annotated``, for example::

    class PatientCreate(BaseModel):
        name: Annotated[str, WHEN_MISSING, required_text("Name", 100)]
        date_of_birth: Annotated[date, WHEN_MISSING, iso_date("Date of birth")]

``WHEN_MISSING`` makes a field that was left out reach its validator as ``None``, so
that a missing field gets the same human message as an empty one ("Name is required")
rather than pydantic's generic "Field required". The messages are the original
system's, byte for byte: its clients show them to people.

The plain functions (``parse_iso_date``, ``is_email``, ``is_currency_code``...) serve
code that validates outside a pydantic model (event decoding, report parameters), and
:func:`validated` builds a model from a decoded gRPC request or event, turning its
errors into the same 400 (field -> message map) that an HTTP request gets.

The validators document themselves: each one adds to the field's JSON schema (and so to
the OpenAPI document) what it accepts, as ECMA-262 patterns a client can check against:
required text holds a character that is not a space, an email address has the shape
checked here, and no text holds :data:`UNSTORABLE_TEXT`. A field marked ``WHEN_MISSING``
is listed as required: leaving it out is the same 400 as sending it empty.
"""

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from pms_platform.errors import VALIDATION_DETAIL, BadRequestError, field_errors

EMAIL_MAX = 255
ISO_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
CURRENCY_CODE_PATTERN = re.compile(r"^[A-Z]{3}$")

WHEN_MISSING: Any = Field(default=None, validate_default=True)
"""Put in ``Annotated`` beside a validator: a missing field is validated as ``None``."""

ModelT = TypeVar("ModelT", bound=BaseModel)

UNSTORABLE_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""What no request's text may hold: NUL and the other C0 and C1 control characters but
tab, line feed and carriage return (PostgreSQL cannot store NUL; the rest is not text);
the bidirectional embedding, override and isolate controls (they make a name display as
another one; the LRM and RLM marks of right-to-left text stay allowed); and unpaired
surrogates (JSON can spell them, UTF-8 cannot)."""
UNSTORABLE_TEXT_MESSAGE = (
    "Must not contain control characters, bidirectional overrides or unpaired surrogates"
)
# The same characters in an ECMA-262 character class, for the documents; unpaired
# surrogates are left out (a pattern cannot name them, and no UTF-8 text holds one).
UNSTORABLE_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
STORABLE_TEXT_PATTERN = f"^[^{UNSTORABLE_CLASS}]*$"
"""Any text that :func:`reject_unstorable_text` lets through (documented on every request
text that has no pattern of its own, by :mod:`pms_platform.openapi`)."""
# What ``str.strip()`` removes (``str.isspace``) and is storable: ECMA's ``\s`` differs.
_SPACE_CLASS = r"\t\n\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
REQUIRED_TEXT_PATTERN = (
    f"^[^{UNSTORABLE_CLASS}]*[^{_SPACE_CLASS}{UNSTORABLE_CLASS}][^{UNSTORABLE_CLASS}]*$"
)
"""Storable text with a character that is not a space: what ``check_required_text`` takes."""
_WORD = f"[^@.{_SPACE_CLASS}{UNSTORABLE_CLASS}]+"
_SPACES = f"[{_SPACE_CLASS}]*"
EMAIL_SCHEMA_PATTERN = (
    f"^{_SPACES}[^@{_SPACE_CLASS}{UNSTORABLE_CLASS}]+@{_WORD}(\\.{_WORD})+{_SPACES}$"
)
""":data:`EMAIL_PATTERN`, spaces around it allowed (they are stripped), as a document says it."""


def reject_unstorable_text(value: Any) -> Any:
    """A before-validator: ``value`` unchanged unless it is text with a character of
    :data:`UNSTORABLE_TEXT` (then the field's 400 message)."""
    if isinstance(value, str) and UNSTORABLE_TEXT.search(value):
        raise PydanticCustomError("unstorable_text", UNSTORABLE_TEXT_MESSAGE)
    return value


def _require_when_missing(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """List the ``WHEN_MISSING`` fields as required: missing, each is a 400."""
    properties: dict[str, Any] = schema.get("properties", {})
    for name, field in model.model_fields.items():
        key = field.alias or name
        if field.validate_default and field.default is None and key in properties:
            properties[key].pop("default", None)
            if key not in schema.setdefault("required", []):
                schema["required"].append(key)


class RequestModel(BaseModel):
    """The base of every request model (bodies, query parameters, decoded gRPC calls):
    every text field refuses :data:`UNSTORABLE_TEXT` with a 400 naming the field, before
    any other check and before anything reaches the database."""

    model_config = ConfigDict(json_schema_extra=_require_when_missing)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return reject_unstorable_text(value)


def _labelled(label: str | None, text: str) -> str:
    """``"Date of birth must be ..."`` with a label, ``"Must be ..."`` without one."""
    return f"{label} {text}" if label else text[0].upper() + text[1:]


def parse_iso_date(value: str | None, label: str | None = None) -> date:
    """``YYYY-MM-DD`` only (``date.fromisoformat`` alone would also take week dates).

    Raises ``ValueError`` with the field's message: "<label> is required", "<label> must
    be a date in the form YYYY-MM-DD", "<label> must be a valid calendar date" (without
    a label: "Must be ...").
    """
    text = (value or "").strip()
    if not text:
        raise ValueError(_labelled(label, "is required"))
    if not ISO_DATE_PATTERN.fullmatch(text):
        raise ValueError(_labelled(label, "must be a date in the form YYYY-MM-DD"))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(_labelled(label, "must be a valid calendar date")) from None


def is_iso_date(value: str) -> bool:
    try:
        parse_iso_date(value)
    except ValueError:
        return False
    return True


def is_email(text: str) -> bool:
    return len(text) <= EMAIL_MAX and EMAIL_PATTERN.fullmatch(text) is not None


def is_currency_code(text: str) -> bool:
    """Three capital letters, the shape of an ISO 4217 code (billing also checks the list)."""
    return CURRENCY_CODE_PATTERN.fullmatch(text) is not None


def check_required_text(value: str | None, label: str, maximum: int) -> str:
    """Stripped text: "<label> is required", "<label> cannot exceed N characters"."""
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{label} is required")
    if len(text) > maximum:
        raise ValueError(f"{label} cannot exceed {maximum} characters")
    return text


def check_email(value: str | None, label: str = "Email") -> str:
    """A stripped email address: "Email is required", "Email should be valid"."""
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{label} is required")
    if not is_email(text):
        raise ValueError(f"{label} should be valid")
    return text


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentedValidator(BeforeValidator):
    """A before-validator that adds ``schema`` (what it accepts) to the field's JSON schema."""

    schema: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __get_pydantic_json_schema__(
        self, inner: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(inner)
        json_schema.update(self.schema)
        return json_schema


def _before(check: Callable[[Any], Any], **schema: Any) -> Any:
    return DocumentedValidator(check, schema=schema)


def text_validator(check: Callable[[str | None], Any], **schema: Any) -> Any:
    """The ``Annotated`` validator running ``check`` on a text or ``None`` (missing);
    another JSON type (a number, a list...) gets the message a plain ``str`` field gives
    it, "Input should be a valid string", whatever the field's type after validation.
    ``schema`` documents what ``check`` accepts (``pattern``, ``minLength``...)."""

    def run(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return check(value)

    return _before(run, **schema)


def required_text(label: str, maximum: int) -> Any:
    """The ``Annotated`` validator of a required text field (see the module docstring).
    Documented ``maxLength`` counts the spaces around the text too; they are stripped."""
    return text_validator(
        lambda value: check_required_text(value, label, maximum),
        minLength=1,
        maxLength=maximum,
        pattern=REQUIRED_TEXT_PATTERN,
    )


def email_address(label: str = "Email") -> Any:
    """The ``Annotated`` validator of a required email address."""
    return text_validator(
        lambda value: check_email(value, label),
        minLength=5,
        maxLength=EMAIL_MAX,
        pattern=EMAIL_SCHEMA_PATTERN,
    )


def iso_date(label: str) -> Any:
    """The ``Annotated`` validator of a required ``YYYY-MM-DD`` date; the field is a
    :class:`datetime.date` after validation."""

    def check(value: Any) -> date:
        if isinstance(value, date):
            return value
        if value is not None and not isinstance(value, str):  # a number, a list...
            raise ValueError(f"{label} must be a date in the form YYYY-MM-DD")
        return parse_iso_date(value, label)

    return _before(check, format="date")


def optional_iso_date(label: str) -> Any:
    """Like :func:`iso_date`, but a missing or null value stays ``None``."""
    required = iso_date(label)

    def check(value: Any) -> date | None:
        return None if value is None else required.func(value)

    return _before(check, format="date")


def validated(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """``model`` from ``data`` (JSON names), or a :class:`BadRequestError` ("The request
    is not valid") with a field -> message map: a 400, or INVALID_ARGUMENT over gRPC."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequestError(VALIDATION_DETAIL, errors=field_errors(error.errors())) from None
