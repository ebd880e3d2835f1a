"""Request and response shapes of the auth API (camelCase on the wire).

Required fields are declared optional and checked by validators, so that a missing
field gets the same human message as an empty one ("Email is required") rather than
pydantic's generic "Field required".
"""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from pms_auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from pms_platform.security import Role

EMAIL_MAX = 255
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_ROLES = ", ".join(role.value for role in Role)

_input = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
_output = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)
MaybeText = Annotated[str | None, Field(default=None, validate_default=True)]


def valid_email(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValueError("Email is required")
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        raise ValueError("Email should be valid")
    return text


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


class LoginIn(BaseModel):
    model_config = _input

    email: MaybeText
    password: MaybeText

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str:
        return valid_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str:
        # No length rule here: old passwords may predate it, and the answer must not say
        # more about a password than "wrong". Only a bound on the work it can cause.
        if not value:
            raise ValueError("Password is required")
        if len(value) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"Password cannot exceed {MAX_PASSWORD_LENGTH} characters")
        return value


class RefreshIn(BaseModel):
    model_config = _input

    refresh_token: MaybeText

    @field_validator("refresh_token")
    @classmethod
    def _token(cls, value: str | None) -> str:
        if not value or not value.strip():
            raise ValueError("Refresh token is required")
        return value.strip()


class LogoutIn(BaseModel):
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


class UserCreate(BaseModel):
    model_config = _input

    email: MaybeText
    password: MaybeText
    role: MaybeText

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str:
        return valid_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str:
        return new_password(value)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str | None) -> str:
        return valid_role(value).value


class UserPatch(BaseModel):
    """Fields left out stay as they are."""

    model_config = _input

    role: str | None = None
    disabled: bool | None = None

    @field_validator("role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else valid_role(value).value


class PasswordIn(BaseModel):
    model_config = _input

    password: MaybeText

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str:
        return new_password(value)
