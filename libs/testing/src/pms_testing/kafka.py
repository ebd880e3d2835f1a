"""Kafka for tests: private topics (created per test, deleted after) and the topic
readers, which read a topic from its beginning in a group of their own."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pms_platform.kafka import ConsumedEvent, EventConsumer

TopicFactory = Callable[..., Awaitable[str]]
"""``await kafka_topic_factory(partitions=3)``: a new topic's name (the fixture's type)."""


@asynccontextmanager
async def private_topics(bootstrap_servers: str) -> AsyncIterator[TopicFactory]:
    """Create topics with random names (``partitions`` each, default 1); all of them are
    deleted when the block ends without an error."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    created: list[str] = []

    async def create(partitions: int = 1) -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
        )
        created.append(name)
        return name

    try:
        yield create
        if created:
            await admin.delete_topics(created)
    finally:
        await admin.close()


def _reader(bootstrap_servers: str, topic: str) -> EventConsumer:
    return EventConsumer(bootstrap_servers, [topic], group_id=f"reader-{uuid.uuid4().hex}")


async def read_topic(
    bootstrap_servers: str, topic: str, count: int, *, seconds: float = 30.0
) -> list[ConsumedEvent]:
    """The records of ``topic`` from its beginning, as soon as at least ``count`` have
    arrived (those of the last poll may be more); ``TimeoutError`` after ``seconds``."""
    found: list[ConsumedEvent] = []
    async with _reader(bootstrap_servers, topic) as consumer, asyncio.timeout(seconds):
        async for batch in consumer.batches():
            found += batch
            if len(found) >= count:
                break
    return found


async def read_whole_topic(
    bootstrap_servers: str,
    topic: str,
    expected: int,
    *,
    seconds: float = 30.0,
    quiet_polls: int = 4,
    poll_ms: int = 250,
) -> list[ConsumedEvent]:
    """Everything on ``topic`` from its beginning: ``expected`` records (bounded by
    ``seconds``), then ``quiet_polls`` empty polls of ``poll_ms`` in a row (at most five
    seconds more), to see that nothing else (no duplicate) follows."""
    found: list[ConsumedEvent] = []
    async with _reader(bootstrap_servers, topic) as consumer:
        async with asyncio.timeout(seconds):
            async for batch in consumer.batches():
                found += batch
                if len(found) >= expected:
                    break
        async with asyncio.timeout(5):
            quiet = 0
            async for batch in consumer.batches(timeout_ms=poll_ms):
                found += batch
                quiet = 0 if batch else quiet + 1
                if quiet >= quiet_polls:
                    break
    return found
