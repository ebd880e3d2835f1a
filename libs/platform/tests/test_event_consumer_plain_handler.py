"""The idempotent consumer with a plain handler (asyncpg, no ORM session), against the
real PostgreSQL and Kafka: the same promises as with a session handler (each event once,
a batch in one transaction, a poison event dead-lettered without its neighbours, a
transient failure retried until it heals)."""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import PoisonEventError
from pms_platform.kafka import ConsumedEvent
from pms_testing.kafka import read_topic
from pms_testing.note_events import PROCESSED, applied_notes, note, send
from pms_testing.polling import eventually

pytestmark = pytest.mark.integration


class PlainNoteHandler:
    """Events are JSON ``{"id": ..., "note": ...}``; each applied one adds a row to
    ``applied`` on the consumer's connection. ``failures`` makes the first few attempts
    of a note raise."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None) -> None:
        self.failures = failures or {}
        self.calls: list[tuple[int, int]] = []
        """Per ``apply_on`` call: the connection's identity and how many events it got."""

    def decode(self, event: ConsumedEvent) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(event.value)
        return message

    def event_id(self, message: dict[str, Any]) -> str | None:
        return message.get("id")

    async def apply_on(
        self,
        connection: asyncpg.Connection,
        items: Sequence[tuple[dict[str, Any], ConsumedEvent]],
    ) -> None:
        self.calls.append((id(connection), len(items)))
        for message, _ in items:
            await connection.execute("INSERT INTO applied (note) VALUES ($1)", message["note"])
            if message["note"] == "poison":
                raise PoisonEventError("this note is refused")
            pending = self.failures.get(message["note"])
            if pending:
                raise pending.pop(0)


async def consume_until(
    database: Database,
    bootstrap_servers: str,
    topics: tuple[str, str],
    handler: PlainNoteHandler,
    last_note: str,
) -> IdempotentConsumer[dict[str, Any]]:
    """A consumer of ``topics[0]`` run until ``last_note`` is applied, then stopped."""
    topic, dead_letters = topics
    consumer = IdempotentConsumer(
        database,
        PROCESSED,
        handler,
        bootstrap_servers=bootstrap_servers,
        topics=[topic],
        group_id=f"test-{uuid.uuid4().hex}",
        dead_letter_topics={topic: dead_letters},
        max_attempts=3,
        backoff_initial_seconds=0.01,
    )
    await consumer.start()
    try:

        async def applied() -> bool:
            return last_note in await applied_notes(database)

        await eventually(applied)
    finally:
        await consumer.stop()
    return consumer


async def test_a_batch_is_applied_at_once_in_one_transaction_with_its_duplicates_skipped(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    # Sent before the consumer starts: its first poll takes them as one batch.
    notes = [note(f"n{i}", f"b{i}") for i in range(5)]
    await send(kafka_bootstrap_servers, topics[0], *notes, note("n1", "b1"), note("last", "b9"))
    handler = PlainNoteHandler()
    consumer = await consume_until(database, kafka_bootstrap_servers, topics, handler, "last")

    assert await applied_notes(database) == ["n0", "n1", "n2", "n3", "n4", "last"]
    assert [count for _, count in handler.calls] == [6]  # the new ones, in one call
    assert consumer.outcomes == {"applied": 6, "duplicate": 1}


async def test_an_event_delivered_again_later_is_recognised_and_not_applied_twice(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    await send(kafka_bootstrap_servers, topics[0], note("once", "e1"))
    handler = PlainNoteHandler()
    await consume_until(database, kafka_bootstrap_servers, topics, handler, "once")
    # A redelivery (a second producer's copy, a rewound group) comes alone: the lone path.
    await send(kafka_bootstrap_servers, topics[0], note("once", "e1"), note("end", "e2"))
    again = await consume_until(database, kafka_bootstrap_servers, topics, handler, "end")

    assert await applied_notes(database) == ["once", "end"]
    assert again.outcomes["duplicate"] >= 1


async def test_a_poison_event_in_a_batch_is_dead_lettered_and_its_neighbours_applied(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    await send(
        kafka_bootstrap_servers,
        topics[0],
        note("before", "p1"),
        note("poison", "p2"),
        note("after", "p3"),
    )
    handler = PlainNoteHandler()
    consumer = await consume_until(database, kafka_bootstrap_servers, topics, handler, "after")
    [letter] = await read_topic(kafka_bootstrap_servers, topics[1], 1)

    # The batch rolled back, the poison's row and its claimed keys with it; then each
    # event alone: the poison is refused, its neighbours applied once each.
    assert await applied_notes(database) == ["before", "after"]
    assert letter.headers["dlt-error-type"] == "PoisonEventError"
    assert consumer.outcomes == {"applied": 2, "dead_lettered": 1}


async def test_a_deadlock_is_retried_past_max_attempts_until_it_heals(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    """asyncpg's own errors are judged like SQLAlchemy's: a deadlock heals by itself, so
    it is retried without counting against ``max_attempts`` (3), never dead-lettered."""
    deadlocks: list[Exception] = [asyncpg.DeadlockDetectedError("deadlock detected")] * 4
    await send(kafka_bootstrap_servers, topics[0], note("contended", "d1"))
    handler = PlainNoteHandler({"contended": deadlocks})
    consumer = await consume_until(database, kafka_bootstrap_servers, topics, handler, "contended")

    assert await applied_notes(database) == ["contended"]
    assert consumer.outcomes == {"applied": 1}
    assert len(handler.calls) == 5
