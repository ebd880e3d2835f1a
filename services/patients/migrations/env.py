"""Alembic environment of the patients service: all the work is in the platform library."""

from pms_patients.models import Base
from pms_platform.migrations import run_migrations_from_env

run_migrations_from_env(Base.metadata)
