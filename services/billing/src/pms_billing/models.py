"""The billing service's tables (its own database, ``pms_billing``)."""

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from pms_platform.db import service_metadata

# migrations/ sits beside src/ in the service's folder (and in its container image).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()
