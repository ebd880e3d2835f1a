"""An idempotent consumer loop: each event is applied once, in its own transaction, and
offsets are committed only after that transaction.

- The event's key (its event id, or ``topic/partition/offset`` for producers that send
  none) is inserted into a processed-events table in the same transaction as the
  change, so a redelivered event is recognised and skipped.
- An event that cannot be decoded, or that its handler refuses with
  :class:`PoisonEventError`, goes to a dead-letter topic with the error and its origin
  in headers (``DeadLetterHeader``), and the loop carries on with the next event.
- Other failures are retried with back-off: database and connection failures until
  they heal (the event must not be lost because the database restarted), anything
  else ``max_attempts`` times before the event is dead-lettered.
- Each event ends with an :class:`EventOutcome` (applied, duplicate, dead-lettered):
  returned by :meth:`IdempotentConsumer.process`, counted in its ``outcomes`` and, when
  the consumer has :class:`~pms_platform.consumer_metrics.ConsumerMetrics`, exported
  with the lag of its partitions.

Services build their consumer with :func:`pms_platform.workers.consumer_worker`.
"""

import asyncio
import collections
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.vocabulary import DeadLetterHeader, EventHeader
from pms_platform.consumer_metrics import ConsumerMetrics
from pms_platform.db import Database
from pms_platform.kafka import ConsumedEvent, EventConsumer, EventProducer
from pms_platform.logging import get_logger
from pms_platform.request_context import bound_request_id
from pms_platform.retention import RetentionPurge

DEFAULT_PROCESSED_TABLE = "processed_events"
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_log = get_logger("pms.consumer")

MessageT = TypeVar("MessageT")

DeadLetterFilter = Callable[[Mapping[str, str]], bool]
"""Given a dead letter's headers, whether to publish it (a replay skips those the
service already dead-lettered); a skipped one still counts as dead-lettered."""


class EventOutcome(StrEnum):
    """How the consumer ended with one event (the values label the metrics)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before: a redelivery, skipped
    DEAD_LETTERED = "dead_lettered"


class PoisonEventError(Exception):
    """The event can never be applied (malformed or invalid): dead-letter it, move on.

    The message goes into a record header: keep patient details out of it.
    """


class EventHandler(Protocol[MessageT]):
    """What a service supplies for one kind of event."""

    def decode(self, event: ConsumedEvent) -> MessageT:
        """Parse the record; any exception dead-letters it."""
        ...

    def event_id(self, message: MessageT) -> str | None:
        """The producer's event id, if the message carries one."""
        ...

    async def handle(self, session: AsyncSession, message: MessageT, event: ConsumedEvent) -> None:
        """Apply the event in ``session`` (committed by the loop, with the dedup key)."""
        ...


def processed_events_table(metadata: MetaData, name: str = DEFAULT_PROCESSED_TABLE) -> Table:
    """The keys of the events a service has applied (its migration creates the same)."""
    return Table(
        name,
        metadata,
        Column("event_key", String(255), primary_key=True),
        Column("topic", String(255), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index(f"ix_{name}_processed_at", "processed_at"),
    )


def fallback_event_key(event: ConsumedEvent) -> str:
    """The key of an event without an event id: where it is stored in Kafka."""
    return f"{event.topic}/{event.partition}/{event.offset}"


def is_transient(error: BaseException) -> bool:
    """Failures that heal by themselves: lost connections, timeouts, deadlocks."""
    if isinstance(error, OSError | TimeoutError | OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return error.connection_invalidated or sqlstate in _RETRYABLE_SQLSTATES
    return False


def dead_letter_headers(
    event: ConsumedEvent, error: BaseException, group_id: str
) -> dict[str, str]:
    """The original headers plus the error and where the record came from."""
    return {
        **event.headers,
        DeadLetterHeader.ERROR: str(error)[:1000] or type(error).__name__,
        DeadLetterHeader.ERROR_TYPE: type(error).__name__,
        DeadLetterHeader.ORIGINAL_TOPIC: event.topic,
        DeadLetterHeader.ORIGINAL_PARTITION: str(event.partition),
        DeadLetterHeader.ORIGINAL_OFFSET: str(event.offset),
        DeadLetterHeader.CONSUMER_GROUP: group_id,
    }


class _Stopping(Exception):
    """The loop was asked to stop while an event was still being retried."""


class IdempotentConsumer(Generic[MessageT]):
    """Consumes ``topics`` in consumer group ``group_id`` and applies each event once
    with ``handler``; a background worker (:meth:`start`, :meth:`stop`) of the app.

    ``metrics`` receives each outcome, each dead letter and the lag after every poll;
    ``should_dead_letter`` may hold back a dead letter (see :data:`DeadLetterFilter`).
    ``max_poll_records`` and ``fetch_max_wait_ms`` tune the Kafka consumer (see
    :class:`~pms_platform.kafka.EventConsumer`).
    """

    def __init__(
        self,
        database: Database,
        processed_table: Table,
        handler: EventHandler[MessageT],
        *,
        bootstrap_servers: str,
        topics: Sequence[str],
        group_id: str,
        dead_letter_topics: Mapping[str, str] | None = None,
        client_id: str = "pms",
        max_attempts: int = 5,
        backoff_initial_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        processed_retention: timedelta = timedelta(days=30),
        purge_interval_seconds: float = 600.0,
        metrics: ConsumerMetrics | None = None,
        should_dead_letter: DeadLetterFilter | None = None,
        max_poll_records: int = 500,
        fetch_max_wait_ms: int = 500,
        consumer_factory: Callable[[], EventConsumer] | None = None,
        producer_factory: Callable[[], EventProducer] | None = None,
    ) -> None:
        self._database = database
        self._table = processed_table
        self._handler = handler
        self._topics = list(topics)
        self._group_id = group_id
        self._dead_letter_topics = dict(dead_letter_topics or {})
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial_seconds
        self._backoff_max = backoff_max_seconds
        self._purge = RetentionPurge(
            database,
            processed_table,
            key=processed_table.c.event_key,
            stamp=processed_table.c.processed_at,
            retention=processed_retention,
            interval_seconds=purge_interval_seconds,
            batch_size=1000,
        )
        self._metrics = metrics
        self._should_dead_letter = should_dead_letter
        self._consumer_factory = consumer_factory or (
            lambda: EventConsumer(
                bootstrap_servers,
                self._topics,
                group_id=group_id,
                client_id=client_id,
                max_poll_records=max_poll_records,
                fetch_max_wait_ms=fetch_max_wait_ms,
            )
        )
        self._producer_factory = producer_factory or (
            lambda: EventProducer(bootstrap_servers, client_id=client_id)
        )
        self._producer: EventProducer | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # applying a batch, as opposed to waiting for one
        self.outcomes: collections.Counter[str] = collections.Counter()
        """How many events ended with each outcome (by its value), since it was made."""

    def dead_letter_topic(self, topic: str) -> str:
        return self._dead_letter_topics.get(topic, f"{topic}.DLT")

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self._group_id}")

    async def stop(self, timeout_seconds: float = 10.0) -> None:
        """Finish the batch in progress (up to ``timeout_seconds``), commit what was
        applied, leave the group. A loop that is only waiting for records is cancelled at
        once; cancelling is always safe, as whatever was not committed comes back and
        is recognised."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            if self._busy:
                await asyncio.wait({task}, timeout=timeout_seconds)
            task.cancel()  # nothing happens if it has finished
            with contextlib.suppress(asyncio.CancelledError):
                await task
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _run(self) -> None:
        backoff = self._backoff_initial
        while not self._stopping.is_set():
            consumer = self._consumer_factory()
            try:
                await consumer.start()
                backoff = self._backoff_initial
                await self._consume(consumer)
            except Exception as error:  # broker gone or a bug in the loop: rejoin later
                _log.warning("consumer loop failed; restarting", error=type(error).__name__)
                await self._pause(backoff)
                backoff = min(backoff * 2, self._backoff_max)
            finally:
                if self._metrics is not None:
                    self._metrics.observe_lag({})  # no partitions assigned any more
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: EventConsumer) -> None:
        async for batch in consumer.batches():
            self._busy = True
            try:
                await self._consume_batch(consumer, batch)
            finally:
                self._busy = False
            if self._stopping.is_set():
                return
            await self._observe_lag(consumer)

    async def _observe_lag(self, consumer: EventConsumer) -> None:
        if self._metrics is None:
            return
        try:
            self._metrics.observe_lag(await consumer.lag())
        except Exception as error:  # a metric must never stop the consumption
            _log.warning("consumer lag unavailable", error=type(error).__name__)

    async def _consume_batch(self, consumer: EventConsumer, batch: list[ConsumedEvent]) -> None:
        applied: list[ConsumedEvent] = []
        try:
            for event in batch:
                await self.process(event)
                applied.append(event)
        except _Stopping:
            pass  # the rest of the batch stays uncommitted and comes back later
        if applied:
            try:
                await consumer.commit(applied)
            except Exception as error:  # e.g. a rebalance: redelivered, then skipped
                _log.warning("offset commit failed", error=type(error).__name__)
        await self._purge.run_when_due()

    async def process(self, event: ConsumedEvent) -> EventOutcome:
        """Apply one event, recognise it as a duplicate, or dead-letter it; reported in
        :attr:`outcomes` and the metrics."""
        with bound_request_id(event.headers.get(EventHeader.REQUEST_ID)):
            outcome = await self._process(event)
        self.outcomes[outcome.value] += 1
        if self._metrics is not None:
            self._metrics.processed.labels(event.topic, outcome.value).inc()
        return outcome

    async def _process(self, event: ConsumedEvent) -> EventOutcome:
        try:
            message = self._handler.decode(event)
        except Exception as error:
            return await self._dead_letter(event, error)
        key = self._handler.event_id(message) or fallback_event_key(event)
        attempt = 0
        while True:
            try:
                return await self._apply(key, message, event)
            except PoisonEventError as error:
                return await self._dead_letter(event, error)
            except Exception as error:
                attempt += 1
                if not is_transient(error) and attempt >= self._max_attempts:
                    return await self._dead_letter(event, error)
                _log.warning(
                    "event failed; retrying",
                    topic=event.topic,
                    partition=event.partition,
                    offset=event.offset,
                    attempt=attempt,
                    error=type(error).__name__,
                )
                await self._retry_pause(attempt)

    async def _apply(self, key: str, message: MessageT, event: ConsumedEvent) -> EventOutcome:
        async with self._database.transaction() as session:
            claimed = await session.execute(
                insert(self._table)
                .values(event_key=key[:255], topic=event.topic)
                .on_conflict_do_nothing()
                .returning(self._table.c.event_key)
            )
            if claimed.scalar_one_or_none() is None:
                _log.info("duplicate event skipped", topic=event.topic, offset=event.offset)
                return EventOutcome.DUPLICATE
            await self._handler.handle(session, message, event)
        return EventOutcome.APPLIED

    async def _dead_letter(self, event: ConsumedEvent, error: BaseException) -> EventOutcome:
        """Publish the record as it came to the dead-letter topic; retried until the
        broker acknowledges (or the loop stops), as the offset moves on after it."""
        topic = self.dead_letter_topic(event.topic)
        headers = dead_letter_headers(event, error, self._group_id)
        if self._should_dead_letter is None or self._should_dead_letter(headers):
            await self._publish_dead_letter(event, topic, headers)
        else:
            _log.info("dead letter held back", topic=event.topic, offset=event.offset)
        if self._metrics is not None:
            self._metrics.failed.labels(event.topic, type(error).__name__).inc()
        return EventOutcome.DEAD_LETTERED

    async def _publish_dead_letter(
        self, event: ConsumedEvent, topic: str, headers: Mapping[str, str]
    ) -> None:
        key = event.key.decode(errors="replace") if event.key is not None else None
        attempt = 0
        while True:
            try:
                if self._producer is None:
                    producer = self._producer_factory()
                    try:
                        await producer.start()
                    except BaseException:
                        with contextlib.suppress(Exception):
                            await producer.stop()
                        raise
                    self._producer = producer
                await self._producer.send(topic, key=key, value=event.value, headers=headers)
            except Exception as failure:
                attempt += 1
                _log.warning("dead-letter publish failed", error=type(failure).__name__)
                await self._retry_pause(attempt)
                continue
            _log.warning(
                "event dead-lettered",
                topic=event.topic,
                partition=event.partition,
                offset=event.offset,
                dead_letter_topic=topic,
                error_type=headers[DeadLetterHeader.ERROR_TYPE],
            )
            return

    async def _retry_pause(self, attempt: int) -> None:
        await self._pause(min(self._backoff_initial * 2 ** (attempt - 1), self._backoff_max))
        if self._stopping.is_set():
            raise _Stopping

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
