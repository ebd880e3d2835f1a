"""The launcher from outside: `pms up` and `make test` run as a person runs them, in a shell
of their own, on ports no other run here uses (the development ones are 4000-4005, 9001,
54329, 9092-9093; `make test`'s own platform is 10000 above them).

Each test here starts complete platforms (PostgreSQL, Kafka, five services), so they are
end-to-end tests."""

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables of the run these tests are part of (`make test`, `pms infra run`) that a
# person's own shell would not have: the platform under test must not inherit them.
RUN_VARIABLES = (
    "PMS_POSTGRES_URL",
    "PMS_KAFKA_BOOTSTRAP_SERVERS",
    "PMS_STATE_DIR",
    "PMS_PORT_OFFSET",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/launcher/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


def shell_environment(**settings: str) -> dict[str, str]:
    """A fresh shell's environment (this process's, less this run's own addresses), plus
    ``settings``."""
    environment = {name: value for name, value in os.environ.items() if name not in RUN_VARIABLES}
    return {**environment, **settings}


def pms_command() -> str:
    """The `pms` script of this environment (what `uv run pms` runs)."""
    return str(Path(sys.executable).parent / "pms")
