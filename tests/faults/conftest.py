"""The fault suite: dependencies stopped and started again under load, against real
processes and sockets. Every test here needs the real PostgreSQL and Kafka."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.path):
            item.add_marker(pytest.mark.integration)
