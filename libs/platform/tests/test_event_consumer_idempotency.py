"""The idempotent consumer loop against the real PostgreSQL and Kafka."""

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import PoisonEventError
from pms_platform.kafka import ConsumedEvent, EventConsumer, EventProducer, group_offsets
from pms_testing.kafka import read_topic
from pms_testing.note_events import APPLIED, PROCESSED, applied_notes, note, send
from pms_testing.polling import eventually

pytestmark = pytest.mark.integration


class NoteHandler:
    """Events are JSON ``{"id": ..., "note": ...}``; each applied one adds a row to
    ``applied``. ``failures`` makes the first few attempts of a note raise."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None) -> None:
        self.failures = failures or {}
        self.sessions: list[int] = []
        """The identity of the session each ``handle`` call was given, in call order."""

    def decode(self, event: ConsumedEvent) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(event.value)
        return message

    def event_id(self, message: dict[str, Any]) -> str | None:
        return message.get("id")

    async def handle(
        self, session: AsyncSession, message: dict[str, Any], event: ConsumedEvent
    ) -> None:
        self.sessions.append(id(session))
        await session.execute(insert(APPLIED).values(note=message["note"]))
        if message["note"] == "poison":
            raise PoisonEventError("this note is refused")
        pending = self.failures.get(message["note"])
        if pending:
            raise pending.pop(0)


def consumer_for(
    database: Database,
    bootstrap_servers: str,
    topics: tuple[str, str],
    handler: NoteHandler,
    group_id: str | None = None,
    **options: Any,
) -> IdempotentConsumer[dict[str, Any]]:
    topic, dead_letters = topics
    return IdempotentConsumer(
        database,
        PROCESSED,
        handler,
        bootstrap_servers=bootstrap_servers,
        topics=[topic],
        group_id=group_id or f"test-{uuid.uuid4().hex}",
        dead_letter_topics={topic: dead_letters},
        max_attempts=3,
        backoff_initial_seconds=0.01,
        **options,
    )


async def wait_for_note(database: Database, text: str) -> None:
    async def present() -> bool:
        return text in await applied_notes(database)

    await eventually(present)


async def consume_until(
    database: Database, consumer: IdempotentConsumer[dict[str, Any]], text: str
) -> None:
    """Run ``consumer`` until the note ``text`` is applied, then stop it."""
    await consumer.start()
    try:
        await wait_for_note(database, text)
    finally:
        await consumer.stop()


async def test_an_event_delivered_twice_is_applied_once(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler())
    await consumer.start()
    try:
        await send(kafka_bootstrap_servers, topics[0], note("once", "e1"), note("once", "e1"))
        await send(kafka_bootstrap_servers, topics[0], note("end", "e2"))
        await wait_for_note(database, "end")
    finally:
        await consumer.stop()

    assert await applied_notes(database) == ["once", "end"]


async def test_events_without_an_id_are_keyed_by_where_kafka_stored_them(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    topic = topics[0]
    await send(kafka_bootstrap_servers, topic, note("first"), note("second"))
    first = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler())
    await first.start()
    try:
        await wait_for_note(database, "second")
    finally:
        await first.stop()
    # Another group reads from the beginning: the same offsets are recognised.
    replay = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler())
    await replay.start()
    try:
        await send(kafka_bootstrap_servers, topic, note("third"))
        await wait_for_note(database, "third")
    finally:
        await replay.stop()

    async with database.transaction() as session:
        keys = set((await session.scalars(select(PROCESSED.c.event_key))).all())
    assert keys == {f"{topic}/0/0", f"{topic}/0/1", f"{topic}/0/2"}
    assert await applied_notes(database) == ["first", "second", "third"]


async def test_undecodable_and_refused_events_are_dead_lettered_and_the_loop_carries_on(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    topic, dead_letters = topics
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler())
    await consumer.start()
    try:
        await send(kafka_bootstrap_servers, topic, b"{not json", note("poison", "p"), note("ok"))
        await wait_for_note(database, "ok")
    finally:
        await consumer.stop()
    letters = await read_topic(kafka_bootstrap_servers, dead_letters, 2)

    assert await applied_notes(database) == ["ok"]  # the refused event's change rolled back
    assert [letter.value for letter in letters] == [b"{not json", note("poison", "p")]
    assert [letter.headers["dlt-error-type"] for letter in letters] == [
        "JSONDecodeError",
        "PoisonEventError",
    ]
    assert letters[1].headers["dlt-error"] == "this note is refused"
    assert [letter.headers["dlt-original-offset"] for letter in letters] == ["0", "1"]
    assert {letter.headers["dlt-original-topic"] for letter in letters} == {topic}


async def test_a_transient_failure_is_retried_until_it_heals_and_applied_once(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    lost = OperationalError("SELECT 1", {}, ConnectionResetError("connection lost"))
    handler = NoteHandler({"flaky": [lost] * 6})  # more failures than max_attempts
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, handler)
    await consumer.start()
    try:
        await send(kafka_bootstrap_servers, topics[0], note("flaky", "f"))
        await wait_for_note(database, "flaky")
    finally:
        await consumer.stop()

    assert handler.failures["flaky"] == []
    assert await applied_notes(database) == ["flaky"]


async def test_a_persistent_failure_is_dead_lettered_after_max_attempts(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    handler = NoteHandler({"buggy": [ValueError("bug")] * 3})
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, handler)
    await consumer.start()
    try:
        await send(kafka_bootstrap_servers, topics[0], note("buggy", "b"), note("next", "n"))
        await wait_for_note(database, "next")
    finally:
        await consumer.stop()
    [letter] = await read_topic(kafka_bootstrap_servers, topics[1], 1)

    assert await applied_notes(database) == ["next"]
    assert (letter.headers["dlt-error-type"], letter.headers["dlt-error"]) == ("ValueError", "bug")


async def test_offsets_are_committed_so_a_restarted_member_resumes_after_them(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    group = f"test-{uuid.uuid4().hex}"
    await send(kafka_bootstrap_servers, topics[0], note("a"), note("b"))
    first = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler(), group)
    await first.start()
    try:
        await wait_for_note(database, "b")
    finally:
        await first.stop()
    async with database.transaction() as session:
        await session.execute(PROCESSED.delete())  # forget: only offsets can prevent a replay

    again = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler(), group)
    await again.start()
    try:
        await send(kafka_bootstrap_servers, topics[0], note("c"))
        await wait_for_note(database, "c")
    finally:
        await again.stop()

    assert await applied_notes(database) == ["a", "b", "c"]
    async with database.transaction() as session:
        count = (await session.execute(select(func.count()).select_from(PROCESSED))).scalar()
    assert count == 1


async def test_the_offsets_of_batches_in_quick_succession_are_committed_together(
    database: Database,
    kafka_bootstrap_servers: str,
    topics: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = f"test-{uuid.uuid4().hex}"
    commits: list[int] = []
    commit = EventConsumer.commit

    async def counted_commit(self: EventConsumer, events: Any) -> None:
        commits.append(len(events))
        await commit(self, events)

    monkeypatch.setattr(EventConsumer, "commit", counted_commit)
    consumer = consumer_for(
        database,
        kafka_bootstrap_servers,
        topics,
        NoteHandler(),
        group,
        offset_commit_interval_seconds=3600,
    )
    batches: list[int] = []
    process_batch = consumer.process_batch

    async def counted_batch(batch: list[ConsumedEvent]) -> int:
        batches.append(len(batch))
        return await process_batch(batch)

    monkeypatch.setattr(consumer, "process_batch", counted_batch)

    async def committed(offset: int) -> bool:
        offsets = await group_offsets(kafka_bootstrap_servers, group)
        return offsets.get((topics[0], 0)) == offset

    await consumer.start()
    try:
        await send(kafka_bootstrap_servers, topics[0], note("first"))
        await eventually(lambda: committed(1))  # caught up: committed without waiting
        commits.clear()
        batches.clear()
        async with EventProducer(kafka_bootstrap_servers) as producer:
            for index in range(6):  # apart: each reaches the consumer in a poll of its own
                await producer.send(topics[0], key="k", value=note(f"n{index}"))
                await asyncio.sleep(0.03)
        await eventually(lambda: committed(7))
    finally:
        await consumer.stop()

    assert len([size for size in batches if size]) >= 2  # several batches...
    assert commits == [1]  # ...one commit, when the consumer had caught up
    assert await applied_notes(database) == ["first", *(f"n{index}" for index in range(6))]


async def test_stop_returns_at_once_while_the_loop_only_waits_for_records(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, NoteHandler())
    await consumer.start()
    await send(kafka_bootstrap_servers, topics[0], note("before"))
    await wait_for_note(database, "before")

    started = asyncio.get_running_loop().time()
    await consumer.stop(timeout_seconds=30)

    assert asyncio.get_running_loop().time() - started < 5


async def test_a_waiting_batch_is_applied_in_one_transaction_with_its_duplicates_skipped(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    # Sent before the consumer starts: its first poll takes them as one batch.
    notes = [note(f"n{i}", f"b{i}") for i in range(5)]
    await send(kafka_bootstrap_servers, topics[0], *notes, note("n1", "b1"), note("last", "b9"))
    handler = NoteHandler()
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, handler)
    await consume_until(database, consumer, "last")

    assert await applied_notes(database) == ["n0", "n1", "n2", "n3", "n4", "last"]
    assert len(handler.sessions) == 6
    assert len(set(handler.sessions)) == 1  # one session: one transaction for the batch
    assert consumer.outcomes == {"applied": 6, "duplicate": 1}


async def test_a_poison_event_in_a_batch_is_dead_lettered_and_the_rest_applied_in_order(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    await send(
        kafka_bootstrap_servers,
        topics[0],
        note("before", "p1"),
        note("poison", "p2"),
        note("after", "p3"),
    )
    handler = NoteHandler({"after": [ValueError("bug")] * 2})
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, handler)
    await consume_until(database, consumer, "after")
    [letter] = await read_topic(kafka_bootstrap_servers, topics[1], 1)

    # The batch rolled back (the poison's row with it); then one by one: "after" fails
    # twice more, within max_attempts (3), and is applied on its third attempt.
    assert await applied_notes(database) == ["before", "after"]
    assert letter.headers["dlt-error-type"] == "PoisonEventError"
    assert consumer.outcomes == {"applied": 2, "dead_lettered": 1}


async def test_a_failure_in_a_batch_counts_as_the_events_first_attempt(
    database: Database, kafka_bootstrap_servers: str, topics: tuple[str, str]
) -> None:
    await send(kafka_bootstrap_servers, topics[0], note("buggy", "f1"), note("next", "f2"))
    handler = NoteHandler({"buggy": [ValueError("bug")] * 3})
    consumer = consumer_for(database, kafka_bootstrap_servers, topics, handler)
    await consume_until(database, consumer, "next")
    [letter] = await read_topic(kafka_bootstrap_servers, topics[1], 1)

    assert await applied_notes(database) == ["next"]
    assert letter.headers["dlt-error"] == "bug"
    assert handler.failures["buggy"] == []  # three attempts in all, the batch's included
