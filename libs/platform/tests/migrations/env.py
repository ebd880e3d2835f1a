"""Migrations of the platform's own integration tests: one ``notes`` table."""

from pms_platform.db import service_metadata
from pms_platform.migrations import run_migrations_from_env

run_migrations_from_env(service_metadata())
