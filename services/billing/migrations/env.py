"""Alembic environment of the billing service: all the work is in the platform library."""

from pms_billing.models import Base
from pms_platform.migrations import run_migrations_from_env

run_migrations_from_env(Base.metadata)
