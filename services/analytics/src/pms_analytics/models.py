"""The analytics service's tables (its own database, ``pms_analytics``).

Only aggregates and the little per-patient state needed to keep them right under
updates, deletions and redelivery: no names, emails or addresses are stored. Every
report is answered from these tables, never by reading events again.
"""

import uuid
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pms_platform.db import service_metadata
from pms_platform.event_handlers import processed_events_table

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


class PatientState(Base):
    """What analytics knows of one patient: enough to move the counters by the
    difference an event makes (active or not, which birth date it is counted under)."""

    __tablename__ = "patient_states"

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    active: Mapped[bool]
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    registered_date: Mapped[date | None] = mapped_column(Date)
    # The time of the newest event applied to this row; older ones no longer change it.
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Total(Base):
    """A named running count (``patients_created``, ``invoices_paid``...)."""

    __tablename__ = "totals"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class DailyRegistrations(Base):
    """Patients created per day, by registered date or by the event's own date (UTC)."""

    __tablename__ = "daily_registrations"

    basis: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("basis IN ('registered', 'event')", name="basis"),)


class ActiveBirthDate(Base):
    """Active patients per date of birth: summed into age bands when asked, so the bands
    follow the calendar without any event (at most one row per day of a century)."""

    __tablename__ = "active_birth_dates"

    date_of_birth: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class DailyBilling(Base):
    """Invoices issued, paid and voided per day (UTC) and currency, with their amounts in
    the currency's minor units."""

    __tablename__ = "daily_billing"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    issued_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    issued_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    voided_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    voided_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")


# Keys of the events already applied, written in the transaction of their change.
processed_events = processed_events_table(Base.metadata)

# In the order every transaction touches them (see AggregateWriter.empty_all).
AGGREGATE_TABLE_NAMES: tuple[str, ...] = tuple(
    model.__tablename__
    for model in (PatientState, Total, DailyRegistrations, ActiveBirthDate, DailyBilling)
)
