"""An idempotent consumer loop: each event is applied once, and offsets are committed
only after the transaction that applied it (together, now and then:
:mod:`pms_platform.offset_commits` says when).

- A polled batch is applied in one transaction (its keys claimed in one statement);
  when anything in it fails, it rolls back and its events are taken one transaction
  each, so a poison event cannot take its neighbours down with it.

- The event's key (its event id, or ``topic/partition/offset`` for producers that send
  none) is inserted into a processed-events table in the same transaction as the
  change, so a redelivered event is recognised and skipped.
- An event that cannot be decoded, or that its handler refuses with
  :class:`PoisonEventError`, goes to a dead-letter topic with the error and its origin
  in headers (``DeadLetterHeader``), and the loop carries on with the next event.
- Other failures are retried with back-off: database and connection failures until
  they heal (the event must not be lost because the database restarted), anything
  else ``max_attempts`` times before the event is dead-lettered.
- Each event ends with an :class:`EventOutcome`, counted in ``outcomes`` and the
  :class:`~pms_platform.consumer_metrics.ConsumerMetrics`, with the partitions' lag.

Services build their consumer with :func:`pms_platform.workers.consumer_worker`.
"""

import asyncio
import collections
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Generic

from sqlalchemy import Table

from pms_contracts.vocabulary import DeadLetterHeader, EventHeader
from pms_platform.consumer_metrics import ConsumerMetrics
from pms_platform.db import Database
from pms_platform.event_batches import BatchApplier
from pms_platform.event_handlers import (
    AnyEventHandler,
    DeadLetterFilter,
    EventOutcome,
    MessageT,
    PoisonEventError,
    applies_filter,
    dead_letter_headers,
    fallback_event_key,
    is_transient,
)
from pms_platform.kafka import ConsumedEvent, EventConsumer, EventProducer
from pms_platform.logging import get_logger
from pms_platform.offset_commits import PendingOffsets
from pms_platform.request_context import bound_request_id
from pms_platform.retention import RetentionPurge

_log = get_logger("pms.consumer")
_LAST_COMMIT_TIMEOUT_SECONDS = 2.0


class _Stopping(Exception):
    """The loop was asked to stop while an event was still being retried."""


class IdempotentConsumer(Generic[MessageT]):
    """Consumes ``topics`` in consumer group ``group_id`` and applies each event once
    with ``handler``; a background worker (:meth:`start`, :meth:`stop`) of the app.

    ``metrics`` receives each outcome, each dead letter and the lag after every poll;
    ``should_dead_letter`` may hold back a dead letter (see :data:`DeadLetterFilter`).
    ``max_poll_records``, ``fetch_max_wait_ms``, ``idle_fetch_max_wait_ms`` and
    ``gather_max_wait_ms`` tune the Kafka consumer (see :class:`~pms_platform.kafka.EventConsumer`);
    ``offset_commit_interval_seconds`` spaces its offset commits (see
    :class:`~pms_platform.offset_commits.PendingOffsets`).

    Waiting costs next to nothing: the loop waits on the broker (a fetch the broker holds
    until a record arrives or ``idle_fetch_max_wait_ms`` passes, once a poll found
    nothing), not on a timer; nothing touches the database between events.
    """

    def __init__(
        self,
        database: Database,
        processed_table: Table,
        handler: AnyEventHandler[MessageT],
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
        idle_fetch_max_wait_ms: int = 5000,
        gather_max_wait_ms: int = 0,
        offset_commit_interval_seconds: float = 1.0,
        consumer_factory: Callable[[], EventConsumer] | None = None,
        producer_factory: Callable[[], EventProducer] | None = None,
    ) -> None:
        self._database = database
        self._table = processed_table
        self._handler = handler
        self._applies = applies_filter(handler)
        self._batches = BatchApplier(database, processed_table, handler)
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
        self._idle_fetch_max_wait_ms = idle_fetch_max_wait_ms
        # One for the consumer's life: the commit that ends each Kafka consumer empties it.
        self._offsets = PendingOffsets(offset_commit_interval_seconds)
        self._dead_lettered = False  # in the batch being consumed
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
                idle_fetch_max_wait_ms=idle_fetch_max_wait_ms,
                gather_max_wait_ms=gather_max_wait_ms,
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
                    # What waits is committed before the member leaves (a stop, or a
                    # broker failure that replaces the Kafka consumer), in bounded time.
                    await asyncio.wait_for(
                        self._offsets.commit(consumer), _LAST_COMMIT_TIMEOUT_SECONDS
                    )
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _consume(self, consumer: EventConsumer) -> None:
        idle_poll_ms = max(self._idle_fetch_max_wait_ms, 500)
        async for batch in consumer.batches(timeout_ms=500, idle_timeout_ms=idle_poll_ms):
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
        self._dead_lettered = False
        done = batch[: await self.process_batch(batch)]
        self._offsets.add(done, urgent=self._dead_lettered)
        await self._offsets.commit_if_due(consumer, caught_up=not batch)
        await self._purge.run_when_due()

    async def process_batch(self, batch: list[ConsumedEvent]) -> int:
        """Apply a polled batch (:class:`~pms_platform.event_batches.BatchApplier`); how
        many of its events, from the first, are done (applied, skipped, dead-lettered):
        their offsets may be committed. Fewer than all only when the loop is stopping."""
        failure = await self._batches.apply(batch)
        if isinstance(failure, list):  # applied together: the outcomes
            for event, outcome in zip(batch, failure, strict=True):
                self._count(event, outcome)
            return len(batch)
        for index, event in enumerate(batch):
            try:
                await self.process(event, failure[1] if failure[0] == index else None)
            except _Stopping:
                return index  # the rest stays uncommitted and comes back later
        return len(batch)

    async def process(
        self, event: ConsumedEvent, first_error: Exception | None = None
    ) -> EventOutcome:
        """Apply one event, recognise it as a duplicate, or dead-letter it; reported in
        :attr:`outcomes` and the metrics. ``first_error``: what its handler raised in a
        batch that rolled back, counted as its first attempt."""
        try:
            message = self._handler.decode(event)
        except Exception as error:
            outcome = await self._dead_letter(event, error)
        else:
            if not self._applies(message):
                outcome = EventOutcome.IGNORED  # no transaction: nothing to write
            else:
                with bound_request_id(event.headers.get(EventHeader.REQUEST_ID)):
                    outcome = await self._process(event, message, first_error)
        self._count(event, outcome)
        return outcome

    def _count(self, event: ConsumedEvent, outcome: EventOutcome) -> None:
        self.outcomes[outcome.value] += 1
        if self._metrics is not None:
            self._metrics.processed.labels(event.topic, outcome.value).inc()

    async def _process(
        self, event: ConsumedEvent, message: MessageT, first_error: Exception | None
    ) -> EventOutcome:
        key = self._handler.event_id(message) or fallback_event_key(event)
        attempt = 0
        while True:
            try:
                if first_error is not None:
                    failed, first_error = first_error, None
                    raise failed
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
        if not await self._batches.apply_one(key, message, event):
            return _duplicate(event)
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
        self._dead_lettered = True
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


def _duplicate(event: ConsumedEvent) -> EventOutcome:
    _log.info("duplicate event skipped", topic=event.topic, offset=event.offset)
    return EventOutcome.DUPLICATE
