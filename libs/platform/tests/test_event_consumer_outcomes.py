"""What the idempotent consumer reports: an outcome per event (applied, duplicate,
dead-lettered, ignored), its metrics in the given registry under the service's prefix, and the
dead-letter filter of a replay. Against the real PostgreSQL and Kafka."""

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import (
    DeadLetterFilter,
    EventOutcome,
    PoisonEventError,
)
from pms_platform.kafka import ConsumedEvent, EventProducer, topic_offsets
from pms_platform.settings import ConsumerSettings
from pms_platform.workers import consumer_worker
from pms_testing.kafka import read_topic
from pms_testing.note_events import APPLIED, PROCESSED, note
from pms_testing.polling import eventually

pytestmark = pytest.mark.integration


class NoteHandler:
    """Events are JSON ``{"id": ..., "note": ...}``; the note ``poison`` is refused."""

    def decode(self, event: ConsumedEvent) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(event.value)
        return message

    def event_id(self, message: dict[str, Any]) -> str | None:
        return message.get("id")

    async def handle(
        self, session: AsyncSession, message: dict[str, Any], event: ConsumedEvent
    ) -> None:
        if message["note"] == "poison":
            raise PoisonEventError("this note is refused")
        await session.execute(insert(APPLIED).values(note=message["note"]))


def consumer_for(
    database: Database,
    bootstrap_servers: str,
    topics: tuple[str, str],
    registry: CollectorRegistry,
    should_dead_letter: DeadLetterFilter | None = None,
    handler: NoteHandler | None = None,
) -> IdempotentConsumer[dict[str, Any]]:
    topic, dead_letters = topics
    return consumer_worker(
        ConsumerSettings(service_name="notes", kafka_bootstrap_servers=bootstrap_servers),
        database,
        PROCESSED,
        handler or NoteHandler(),
        topics=[topic],
        group_id=f"test-{uuid.uuid4().hex}",
        dead_letter_topics={topic: dead_letters},
        metrics_registry=registry,
        should_dead_letter=should_dead_letter,
    )


def record(topic: str, offset: int, value: bytes) -> ConsumedEvent:
    return ConsumedEvent(topic=topic, partition=0, offset=offset, key=b"k", value=value)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_each_event_reports_its_outcome_counted_by_topic_and_outcome(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    topic, dead_letters = topics
    registry = CollectorRegistry()
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, registry)
    try:
        outcomes = [
            await consumer.process(record(topic, 0, note("first", "e1"))),
            await consumer.process(record(topic, 1, note("first", "e1"))),
            await consumer.process(record(topic, 2, b"{not json")),
            await consumer.process(record(topic, 3, note("poison", "e2"))),
            await consumer.process(record(topic, 4, note("second", "e3"))),
        ]
    finally:
        await consumer.stop()

    assert outcomes == [
        EventOutcome.APPLIED,
        EventOutcome.DUPLICATE,
        EventOutcome.DEAD_LETTERED,
        EventOutcome.DEAD_LETTERED,
        EventOutcome.APPLIED,
    ]
    assert consumer.outcomes == {"applied": 2, "duplicate": 1, "dead_lettered": 2}
    processed = "notes_events_processed_total"  # the service's name is the prefix
    assert sample(registry, processed, topic=topic, outcome="applied") == 2
    assert sample(registry, processed, topic=topic, outcome="duplicate") == 1
    assert sample(registry, processed, topic=topic, outcome="dead_lettered") == 2
    failed = "notes_events_failed_total"
    assert sample(registry, failed, topic=topic, error_type="JSONDecodeError") == 1
    assert sample(registry, failed, topic=topic, error_type="PoisonEventError") == 1
    letters = await read_topic(kafka_bootstrap_servers, dead_letters, 2)
    assert [letter.headers["dlt-original-offset"] for letter in letters] == ["2", "3"]


async def test_a_dead_letter_the_filter_holds_back_is_not_published_but_still_counted(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    topic, dead_letters = topics
    registry = CollectorRegistry()
    seen: list[Mapping[str, str]] = []

    def hold_back(headers: Mapping[str, str]) -> bool:
        seen.append(dict(headers))
        return False

    consumer = consumer_for(database, kafka_bootstrap_servers, topics, registry, hold_back)
    try:
        outcome = await consumer.process(record(topic, 7, b"garbage"))
    finally:
        await consumer.stop()

    assert outcome is EventOutcome.DEAD_LETTERED
    assert seen[0]["dlt-original-topic"] == topic
    assert seen[0]["dlt-original-offset"] == "7"
    assert seen[0]["dlt-error-type"] == "JSONDecodeError"
    assert sample(registry, "notes_events_failed_total", topic=topic, error_type="JSONDecodeError")
    ends = (await topic_offsets(kafka_bootstrap_servers, [dead_letters])).end
    assert ends == {(dead_letters, 0): 0}  # nothing was published


async def test_the_lag_of_each_assigned_partition_is_exported_and_dropped_at_stop(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    topic = topics[0]
    registry = CollectorRegistry()
    async with EventProducer(kafka_bootstrap_servers) as producer:
        for number in range(3):
            await producer.send(topic, key="k", value=note(f"n{number}", f"id-{number}"))
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, registry)
    await consumer.start()
    try:

        async def caught_up() -> bool:
            applied = sample(
                registry, "notes_events_processed_total", topic=topic, outcome="applied"
            )
            lag = sample(registry, "notes_consumer_lag", topic=topic, partition="0")
            return applied == 3 and lag == 0

        await eventually(caught_up)
    finally:
        await consumer.stop()

    assert sample(registry, "notes_consumer_lag", topic=topic, partition="0") is None


class AsideHandler(NoteHandler):
    """Applies every note but ``aside``, which it acknowledges without applying."""

    def applies(self, message: dict[str, Any]) -> bool:
        return bool(message["note"] != "aside")


async def test_events_a_handler_does_not_apply_are_counted_ignored_and_leave_no_key(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    """Alone and in a batch beside an applied event, and a batch of them only: nothing
    written for them, neither a processed-event key nor the handler's row."""
    topic = topics[0]
    registry = CollectorRegistry()
    consumer = consumer_for(
        database, kafka_bootstrap_servers, topics, registry, handler=AsideHandler()
    )
    try:
        alone = await consumer.process(record(topic, 0, note("aside", "a1")))
        mixed = [record(topic, 1, note("aside", "a2")), record(topic, 2, note("kept", "k1"))]
        only_ignored = [
            record(topic, 3, note("aside", "a3")),
            record(topic, 4, note("aside", "a4")),
        ]
        done = [await consumer.process_batch(mixed), await consumer.process_batch(only_ignored)]
    finally:
        await consumer.stop()
    async with database.transaction() as session:
        keys = set((await session.scalars(select(PROCESSED.c.event_key))).all())
        notes = list((await session.scalars(select(APPLIED.c.note))).all())

    assert alone == EventOutcome.IGNORED
    assert done == [2, 2]
    assert (keys, notes) == ({"k1"}, ["kept"])
    assert consumer.outcomes["ignored"] == 4
    assert sample(registry, "notes_events_processed_total", topic=topic, outcome="ignored") == 4
