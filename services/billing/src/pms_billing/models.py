"""The billing service's tables (its own database, ``pms_billing``)."""

import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pms_platform.db import service_metadata
from pms_platform.event_handlers import processed_events_table
from pms_platform.outbox import outbox_table

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    PAID = "PAID"
    VOID = "VOID"


class Account(Base):
    """A patient's billing account: one per patient, enforced by a unique constraint."""

    __tablename__ = "billing_accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    __table_args__ = (CheckConstraint("status IN ('ACTIVE', 'CLOSED')", name="status"),)


class Invoice(Base):
    """An amount billed to an account: integer minor units of one ISO 4217 currency."""

    __tablename__ = "invoices"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_accounts.id"))
    # The account's patient (never changes): the events' key, without a join.
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)

    __table_args__ = (
        CheckConstraint("status IN ('DRAFT', 'ISSUED', 'PAID', 'VOID')", name="status"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        # A patient's invoices, newest first (the listing's keyset order).
        Index("ix_invoices_account_created", "account_id", "created_at", "id"),
    )


class Payment(Base):
    """The payment of a whole invoice. One per invoice, and one per idempotency key, so a
    retried payment can never be recorded twice."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Events to publish on the `billing` topic, written in the transaction of each change.
outbox_events = outbox_table(Base.metadata)
# Keys of the `patient` events already applied, written with the change they caused.
processed_events = processed_events_table(Base.metadata)
