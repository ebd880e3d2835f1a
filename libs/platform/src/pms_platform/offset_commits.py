"""When :class:`~pms_platform.event_consumer.IdempotentConsumer` commits its offsets.

Every applied event's key is committed with its change, so an offset only says where a
restarted member resumes: an event after it comes back and is recognised by its key, at
the cost of a skipped duplicate. Committing after every batch cost the broker more than
anything else at a light load (an offset commit is a write to ``__consumer_offsets``:
about 2.5 ms of broker CPU each, and at 50 creates/s one per event and consumer, 11 of
the broker's 12 ms per create). So the offsets of applied events wait here and go to
the broker together, when any of these holds:

- ``interval_seconds`` have passed since the last commit (0: after every batch);
- a poll found nothing (the consumer has caught up: nothing to save by waiting);
- an event was dead-lettered (committed at once, so that a restart does not publish a
  second dead letter of it: a dead letter has no key to recognise it by);
- the consumer stops or its Kafka consumer is replaced (what is pending goes first).

A commit that fails (a rebalance took the partitions, the broker is away) is dropped:
the next one carries later offsets of the partitions still assigned, and the events in
between are recognised when they come back.
"""

import time
from collections.abc import Callable, Sequence

from pms_platform.kafka import ConsumedEvent, EventConsumer
from pms_platform.logging import get_logger

_log = get_logger("pms.consumer")


class PendingOffsets:
    """The next offset of each partition whose applied events are not committed yet."""

    def __init__(
        self, interval_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval_seconds
        self._clock = clock
        self._next: dict[tuple[str, int], ConsumedEvent] = {}
        self._urgent = False
        self._last_commit = clock()

    def __len__(self) -> int:
        """How many partitions have offsets waiting."""
        return len(self._next)

    def add(self, events: Sequence[ConsumedEvent], *, urgent: bool = False) -> None:
        """``events`` are done (applied, skipped or dead-lettered); ``urgent``: commit
        them with the next :meth:`commit_if_due` whatever the interval."""
        for event in events:
            key = (event.topic, event.partition)
            waiting = self._next.get(key)
            if waiting is None or waiting.offset < event.offset:
                self._next[key] = event
        self._urgent = self._urgent or urgent

    def due(self, *, caught_up: bool) -> bool:
        if not self._next:
            return False
        if self._urgent or caught_up:
            return True
        return self._clock() - self._last_commit >= self._interval

    async def commit_if_due(self, consumer: EventConsumer, *, caught_up: bool) -> None:
        if self.due(caught_up=caught_up):
            await self.commit(consumer)

    async def commit(self, consumer: EventConsumer) -> None:
        """Commit what is pending (nothing happens when nothing is)."""
        if not self._next:
            return
        events = list(self._next.values())
        self._next.clear()
        self._urgent = False
        self._last_commit = self._clock()
        try:
            await consumer.commit(events)
        except Exception as error:  # e.g. a rebalance: redelivered, then skipped
            _log.warning("offset commit failed", error=type(error).__name__)
