"""A broker outage does not flood the logs.

The analytics service runs as users run it (its consumer joined to a Kafka broker of the
test's own, started by the launcher's code), then the broker is killed. Unlimited, the
Kafka client repeats its complaints (``Unable connect to node``, ``Unable to update
metadata``...) about 75 times a second from its loops; the platform's logging writes
the first few of each kind per window and then one line saying how many it held back.
"""

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pms_analytics.models import MIGRATIONS_DIR
from pms_cli.infra.kafka import running_kafka_pid, start_local_kafka, stop_local_kafka
from pms_cli.infra.kafka_admin import ensure_topics, wait_for_kafka
from pms_cli.infra.paths import InfraPaths
from pms_cli.infra.settings import load_settings
from pms_testing.databases import DatabaseFactory
from pms_testing.polling import eventually
from pms_testing.processes import ServiceProcess, free_port

OUTAGE_SECONDS = 12.0


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[tuple[InfraPaths, str]]:
    """A broker that only this test uses (and kills)."""
    paths = InfraPaths(tmp_path / "state")
    settings = load_settings()
    port = free_port()
    await start_local_kafka(
        paths,
        cache_dir=settings.cache_dir,
        version=settings.kafka_version,
        broker_port=port,
        controller_port=free_port(),
        on_launch=lambda: None,
    )
    bootstrap = f"127.0.0.1:{port}"
    try:
        await wait_for_kafka(bootstrap, max_wait=90, still_running=lambda: True)
        await ensure_topics(bootstrap)
        yield paths, bootstrap
    finally:
        await stop_local_kafka(paths)


async def test_a_dead_broker_is_reported_without_flooding_the_log(
    private_kafka: tuple[InfraPaths, str], database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    paths, bootstrap = private_kafka
    log_file = tmp_path / "analytics.log"
    port = free_port()
    analytics = ServiceProcess(
        "pms_analytics",
        port,
        {
            "PMS_ANALYTICS_HTTP_PORT": str(port),
            "PMS_ANALYTICS_DATABASE_URL": await database_factory(MIGRATIONS_DIR),
            "PMS_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        },
        log_file=log_file,
    )
    await analytics.start()
    try:

        async def joined() -> bool:
            return "Successfully synced group" in log_file.read_text()

        await eventually(joined, 60, interval=0.2, description="the consumer joined its group")
        before = len(log_file.read_text().splitlines())
        broker = running_kafka_pid(paths)
        assert broker is not None
        os.kill(broker, signal.SIGKILL)
        await asyncio.sleep(OUTAGE_SECONDS)
        during = [json.loads(line) for line in log_file.read_text().splitlines()[before:]]
    finally:
        await analytics.stop()

    complaints = [line for line in during if line["level"] in ("warning", "error")]
    assert any(line["logger"].startswith("aiokafka") for line in complaints)  # it is reported
    assert len(during) < 8 * OUTAGE_SECONDS  # not ~75 lines a second
    assert any(line.get("repeated_since_last", 0) > 0 for line in during)  # held back, said so
