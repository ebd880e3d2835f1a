"""The patients service's tables (its own database, ``pms_patients``)."""

import uuid
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Date, DateTime, Index, String, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pms_platform.db import service_metadata

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


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

    __table_args__ = (Index("uq_patients_email_lower", func.lower(email), unique=True),)
