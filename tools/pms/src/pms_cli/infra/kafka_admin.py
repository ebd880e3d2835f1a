"""Talk to the broker with aiokafka's admin client: readiness and the project's topics."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError

from pms_cli.infra.console import warn
from pms_cli.infra.errors import InfraError

PROJECT_TOPICS: Mapping[str, int] = {
    "patient": 6,
    "billing": 6,
    "patient.DLT": 1,
    "billing.DLT": 1,
}
"""Topic name -> partition count. librdkafka consumers never auto-create topics."""

_TOPIC_ALREADY_EXISTS = 36
_REQUEST_TIMEOUT_MS = 10_000


@contextlib.contextmanager
def _quiet_aiokafka() -> Iterator[None]:
    """Hide aiokafka's connection-refused errors while we poll a broker that is still starting."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextlib.asynccontextmanager
async def admin_client(bootstrap_servers: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="pms-infra",
        request_timeout_ms=_REQUEST_TIMEOUT_MS,
    )
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


async def _broker_count(bootstrap_servers: str) -> int:
    async with admin_client(bootstrap_servers) as admin:
        cluster: dict[str, Any] = await admin.describe_cluster()
    return len(cluster.get("brokers", []))


async def _tcp_open(bootstrap_servers: str) -> bool:
    """Cheap first check before the admin client: does the first address accept TCP?"""
    host, _, port = bootstrap_servers.split(",")[0].strip().rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2.0)
    except (TimeoutError, OSError, ValueError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def probe_kafka(bootstrap_servers: str) -> bool:
    """Whether the cluster answers with at least one broker right now."""
    if not await _tcp_open(bootstrap_servers):
        return False
    with _quiet_aiokafka():
        try:
            return await asyncio.wait_for(_broker_count(bootstrap_servers), 15.0) > 0
        except (TimeoutError, KafkaError, OSError):
            return False


async def wait_for_kafka(
    bootstrap_servers: str,
    *,
    max_wait: float,
    still_running: Callable[[], bool],
    log_hint: Callable[[], str] = str,
) -> None:
    """Wait until the admin client lists a broker; fail at once if the broker exited."""
    deadline = time.monotonic() + max_wait
    while not await probe_kafka(bootstrap_servers):
        if not still_running():
            raise InfraError(f"Kafka exited while starting.{log_hint()}")
        if time.monotonic() >= deadline:
            raise InfraError(
                f"Kafka at {bootstrap_servers} did not answer within {max_wait:.0f} s.{log_hint()}"
            )
        await asyncio.sleep(0.5)


def _partition_counts(described: list[Any]) -> dict[str, int]:
    return {
        entry["topic"]: len(entry["partitions"])
        for entry in described
        if entry.get("error_code", 0) == 0
    }


async def _create_missing(
    admin: AIOKafkaAdminClient, topics: Mapping[str, int], existing: dict[str, int]
) -> None:
    missing = [
        NewTopic(name, num_partitions=count, replication_factor=1)
        for name, count in topics.items()
        if name not in existing
    ]
    if missing:
        response = await admin.create_topics(missing, timeout_ms=_REQUEST_TIMEOUT_MS)
        for topic, code, *message in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise InfraError(f"could not create Kafka topic {topic}: {code} {message}")
    grow = {
        name: NewPartitions(total_count=count)
        for name, count in topics.items()
        if name in existing and existing[name] < count
    }
    if grow:
        await admin.create_partitions(grow, timeout_ms=_REQUEST_TIMEOUT_MS)
    for name, count in topics.items():
        if existing.get(name, 0) > count:
            warn(f"Kafka topic {name} has {existing[name]} partitions (expected {count})")


async def ensure_topics(
    bootstrap_servers: str, topics: Mapping[str, int] = PROJECT_TOPICS, max_wait: float = 30.0
) -> None:
    """Create the topics that are missing (with their partition counts) and wait for them."""
    try:
        async with admin_client(bootstrap_servers) as admin:
            # list_topics asks for all topics, which never auto-creates one by accident.
            names = set(await admin.list_topics()) & set(topics)
            existing = _partition_counts(await admin.describe_topics(sorted(names)))
            await _create_missing(admin, topics, existing)
            deadline = time.monotonic() + max_wait
            while True:
                if set(await admin.list_topics()) >= set(topics):
                    counts = _partition_counts(await admin.describe_topics(sorted(topics)))
                    if all(counts.get(name, 0) >= count for name, count in topics.items()):
                        return
                if time.monotonic() >= deadline:
                    raise InfraError(f"Kafka topics did not appear within {max_wait:.0f} s")
                await asyncio.sleep(0.2)
    except KafkaError as error:
        raise InfraError(f"could not set up Kafka topics on {bootstrap_servers}: {error}") from None
