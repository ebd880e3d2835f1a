"""The auth service's tables (its own database, ``pms_auth``)."""

import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pms_platform.db import service_metadata

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


class User(Base):
    """An account; the email is unique regardless of case (``uq_users_email_lower``)."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("uq_users_email_lower", func.lower(email), unique=True),
        CheckConstraint("role IN ('ADMIN', 'CLINICIAN', 'ANALYST')", name="role"),
    )


class RefreshToken(Base):
    """One refresh token, stored as the SHA-256 of its value.

    Tokens rotate: each use marks the token used and issues its child in the same family.
    A used token presented again means it was copied, so the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed logins of one account (``scope='account'``, subject = hash of the email) or
    one client address (``scope='address'``), and the lock they earned.

    Kept in the database so that every replica counts the same failures.
    """

    __tablename__ = "login_throttles"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """The account's user, when the email belongs to one (for logs; never the email)."""
    failures: Mapped[int] = mapped_column(Integer)
    """Failures since ``window_started_at``."""
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The last failure or the end of the last lock: a long quiet after it forgives all."""
    lock_count: Mapped[int] = mapped_column(Integer)
    """Locks in a row; each lasts twice as long as the one before."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The end of the current lock; cleared (and the unlock logged) once it has passed."""
