"""Background workers: what the app factory (:func:`pms_platform.http_app.create_service_app`,
``workers=[...]``) starts after the service's own start-up and stops before its resources
close, all behind the one ``background_workers`` setting.

- :class:`Worker`: ``start()`` and ``stop(timeout_seconds)``. The outbox relay and the
  idempotent consumer are workers as they are.
- :class:`LoopWorker`: a plain "run until stopped" loop (``run_until(stop_event)``, such as
  a retry loop) as a worker.
- :func:`consumer_worker`: the one place a service's idempotent consumer is built, from
  its settings, its database and processed-events table, and its event handler.
- :func:`outbox_relay_worker`: likewise for the relay of a service's outbox table.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from prometheus_client import CollectorRegistry
from sqlalchemy import Table

from pms_platform.consumer_metrics import ConsumerMetrics
from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import AnyEventHandler, DeadLetterFilter
from pms_platform.logging import get_logger
from pms_platform.outbox_relay import OutboxRelay
from pms_platform.settings import ConsumerSettings, OutboxSettings

_log = get_logger("pms.workers")

MessageT = TypeVar("MessageT")


class Worker(Protocol):
    """Something that works in the background while the app serves."""

    async def start(self) -> None:
        """Begin (in a task of its own) and return at once."""
        ...

    async def stop(self, timeout_seconds: float) -> None:
        """Finish the work in hand within ``timeout_seconds``, then cut it short."""
        ...


class LoopWorker:
    """Runs ``run_until(stop)`` in a task: the loop returns soon after ``stop`` is set.

    A loop still running when :meth:`stop`'s time is up is cancelled; a loop that
    failed is logged (it must not prevent the other workers from stopping).
    """

    def __init__(self, run_until: Callable[[asyncio.Event], Awaitable[None]], name: str) -> None:
        self._run_until = run_until
        self._name = name
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self, timeout_seconds: float) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        await asyncio.wait({task}, timeout=timeout_seconds)
        task.cancel()  # nothing happens if it has finished
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        try:
            await self._run_until(self._stop)
        except Exception as error:
            _log.error("worker failed", worker=self._name, error_type=type(error).__name__)


def consumer_worker(
    settings: ConsumerSettings,
    database: Database,
    processed_table: Table,
    handler: AnyEventHandler[MessageT],
    *,
    topics: Sequence[str],
    group_id: str,
    dead_letter_topics: Mapping[str, str] | None = None,
    metrics_registry: CollectorRegistry | None = None,
    metrics_prefix: str | None = None,
    should_dead_letter: DeadLetterFilter | None = None,
    max_poll_records: int = 500,
    fetch_max_wait_ms: int = 500,
) -> IdempotentConsumer[MessageT]:
    """The idempotent consumer of ``topics`` in group ``group_id``, applying each event
    once with ``handler`` (the broker and client id come from ``settings``).

    ``dead_letter_topics`` maps a topic to its dead-letter topic (``<topic>.DLT`` when
    absent). Given ``metrics_registry`` (the app's), the consumer registers its
    :class:`~pms_platform.consumer_metrics.ConsumerMetrics` there, named
    ``<metrics_prefix>_...`` (the service's name unless given). ``should_dead_letter``
    may hold dead letters back (a replay). The rest, and the settings' offset commit
    interval and gathering wait, tune the Kafka consumer.
    """
    metrics = None
    if metrics_registry is not None:
        metrics = ConsumerMetrics(metrics_registry, metrics_prefix or settings.service_name)
    return IdempotentConsumer(
        database,
        processed_table,
        handler,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=topics,
        group_id=group_id,
        dead_letter_topics=dead_letter_topics,
        client_id=settings.kafka_client_id,
        metrics=metrics,
        should_dead_letter=should_dead_letter,
        max_poll_records=max_poll_records,
        fetch_max_wait_ms=fetch_max_wait_ms,
        offset_commit_interval_seconds=settings.consumer_offset_commit_interval_seconds,
        gather_max_wait_ms=settings.consumer_gather_max_wait_ms,
    )


def outbox_relay_worker(settings: OutboxSettings, database: Database, table: Table) -> OutboxRelay:
    """The relay that publishes the events of ``table`` (the service's outbox) to Kafka."""
    return OutboxRelay(
        database,
        table,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.kafka_client_id,
        poll_interval_seconds=settings.outbox_poll_interval_seconds,
        max_poll_interval_seconds=settings.outbox_max_poll_interval_seconds,
        linger_seconds=settings.outbox_linger_seconds,
    )
