"""The patients service's tables (its own database, ``pms_patients``)."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pms_platform.db import service_metadata
from pms_platform.outbox import outbox_table

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


class BillingStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"


class Patient(Base):
    """A patient record; the email is unique regardless of case (``uq_patients_email_lower``)."""

    __tablename__ = "patients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255))
    date_of_birth: Mapped[date] = mapped_column(Date)
    registered_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Incremented by every change; the ETag, so that If-Match can refuse stale writes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    billing_account_id: Mapped[str | None] = mapped_column(String(64), default=None)
    billing_status: Mapped[str] = mapped_column(String(16), default=BillingStatus.PENDING)
    billing_attempts: Mapped[int] = mapped_column(Integer, default=0)
    billing_next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("uq_patients_email_lower", func.lower(email), unique=True),
        # Each sort order of the list (then the id) read straight off an index.
        Index("ix_patients_name_id", name, id),
        Index("ix_patients_email_id", email, id),
        Index("ix_patients_date_of_birth_id", date_of_birth, id),
        Index("ix_patients_registered_date_id", registered_date, id),
        Index(
            "ix_patients_name_trgm",
            name,
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_patients_email_trgm",
            email,
            postgresql_using="gin",
            postgresql_ops={"email": "gin_trgm_ops"},
        ),
        Index(
            "ix_patients_billing_pending",
            billing_next_attempt_at,
            postgresql_where=text("billing_status = 'PENDING'"),
        ),
    )


class AuditEntry(Base):
    """Who read or changed which patient records, when, and with what outcome."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    user_id: Mapped[str] = mapped_column(String(64))
    user_email: Mapped[str] = mapped_column(String(255))
    user_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    patient_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    query: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)

    __table_args__ = (
        Index("ix_audit_log_occurred_at", occurred_at),
        Index("ix_audit_log_patient_ids", patient_ids, postgresql_using="gin"),
        Index("ix_audit_log_user_id", user_id),
    )


class IdempotencyKey(Base):
    """The first answer to a POST with an Idempotency-Key, per caller, for replaying it."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Counters that a trigger moves with every change of ``patients`` (migration 0004): the
# sum of ``revision`` is what a cached page of patients is checked against, the sum of
# ``patients`` is their exact count.
patients_revision = Table(
    "patients_revision",
    Base.metadata,
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Column("patients", BigInteger, nullable=False, server_default="0"),
)

# Events waiting to be published to Kafka, written in the transaction of their change.
outbox_events = outbox_table(Base.metadata)
