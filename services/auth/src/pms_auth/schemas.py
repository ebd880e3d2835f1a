"""Request and response shapes of the auth API (camelCase on the wire).

Request fields are typed as what they are after validation (a stripped email, a
``Role``) and carry their validators in ``Annotated``, the idiom of
``pms_platform.validation``: with ``WHEN_MISSING`` a missing field gets the same human
message as an empty one ("Email is required") rather than pydantic's "Field required".
``UserPageQuery`` is the query string of ``GET /users``.
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from pms_auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from pms_platform.security import Role
from pms_platform.validation import (
    REQUIRED_TEXT_PATTERN,
    WHEN_MISSING,
    RequestModel,
    email_address,
    text_validator,
)

MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000
_ROLES = ", ".join(role.value for role in Role)

_input = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
_output = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


def known_password(value: str | None) -> str:
    """A password to check at login. No length rule: old passwords may predate it, and
    the answer must not say more about a password than "wrong". Only a bound on the
    work it can cause."""
    if not value:
        raise ValueError("Password is required")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"Password cannot exceed {MAX_PASSWORD_LENGTH} characters")
    return value


def new_password(value: str | None) -> str:
    """A password someone chooses: at least 8 characters (kept as typed, spaces too)."""
    if not value:
        raise ValueError("Password is required")
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"Password cannot exceed {MAX_PASSWORD_LENGTH} characters")
    return value


def valid_role(value: str | None) -> Role:
    if value is None or not value.strip():
        raise ValueError("Role is required")
    try:
        return Role(value.strip().upper())
    except ValueError:
        raise ValueError(f"Role must be one of {_ROLES}") from None


def optional_role(value: str | None) -> Role | None:
    """A role to change to; left out (``None``) it stays as it is."""
    return None if value is None else valid_role(value)


def required_refresh_token(value: str | None) -> str:
    if not value or not value.strip():
        raise ValueError("Refresh token is required")
    return value.strip()


Email = Annotated[str, WHEN_MISSING, email_address()]
KnownPassword = Annotated[
    str,
    WHEN_MISSING,
    text_validator(known_password, minLength=1, maxLength=MAX_PASSWORD_LENGTH),
]
NewPassword = Annotated[
    str,
    WHEN_MISSING,
    text_validator(new_password, minLength=MIN_PASSWORD_LENGTH, maxLength=MAX_PASSWORD_LENGTH),
]


class LoginIn(RequestModel):
    model_config = _input

    email: Email
    password: KnownPassword


class RefreshIn(RequestModel):
    model_config = _input

    refresh_token: Annotated[
        str,
        WHEN_MISSING,
        text_validator(required_refresh_token, minLength=1, pattern=REQUIRED_TEXT_PATTERN),
    ]


class LogoutIn(RequestModel):
    model_config = _input

    refresh_token: str | None = Field(default=None, max_length=512)


class TokenPairOut(BaseModel):
    """``token`` repeats ``accessToken`` for the original's clients, which read ``token``."""

    model_config = _output

    token: str
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires")


class TokenInfoOut(BaseModel):
    """What a valid access token says."""

    model_config = _output

    sub: str = Field(description="The user id")
    email: str
    role: Role
    expires_at: datetime


class UserOut(BaseModel):
    model_config = _output

    id: uuid.UUID
    email: str
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime


class UserCreate(RequestModel):
    model_config = _input

    email: Email
    password: NewPassword
    role: Annotated[Role, WHEN_MISSING, text_validator(valid_role)]


class UserPatch(RequestModel):
    """Fields left out stay as they are."""

    model_config = _input

    role: Annotated[Role | None, text_validator(optional_role)] = None
    disabled: StrictBool | None = None


class PasswordIn(RequestModel):
    model_config = _input

    password: NewPassword


class UserPageQuery(RequestModel):
    """The query string of ``GET /users``: a page of ``size`` users, the first is 1."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="From 1")
    size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
