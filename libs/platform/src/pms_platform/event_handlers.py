"""What a service gives the platform's consumer for one kind of event, and what the
consumer tells back: the handler protocol, the poison error, the outcome of an event,
the processed-events table that makes it idempotent, and the dead letter's headers.
The loop itself is :mod:`pms_platform.event_consumer`."""

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

import asyncpg
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, func
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.vocabulary import DeadLetterHeader
from pms_platform.db import is_database_unavailable
from pms_platform.kafka import ConsumedEvent

DEFAULT_PROCESSED_TABLE = "processed_events"
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock

MessageT = TypeVar("MessageT")

DeadLetterFilter = Callable[[Mapping[str, str]], bool]
"""Given a dead letter's headers, whether to publish it (a replay skips those the
service already dead-lettered); a skipped one still counts as dead-lettered."""


class EventOutcome(StrEnum):
    """How the consumer ended with one event (the values label the metrics)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before: a redelivery, skipped
    DEAD_LETTERED = "dead_lettered"
    IGNORED = "ignored"  # of a kind its handler does not apply: nothing written


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


@runtime_checkable
class BatchEventHandler(EventHandler[MessageT], Protocol[MessageT]):
    """A handler that can also apply several new events at once, in order, in one session
    (set-based SQL instead of statements per event). The consumer uses it for a batch;
    when it raises, the batch rolls back and each event goes through ``handle`` alone."""

    async def handle_all(
        self, session: AsyncSession, items: Sequence[tuple[MessageT, ConsumedEvent]]
    ) -> None: ...


@runtime_checkable
class PlainEventHandler(Protocol[MessageT]):
    """A handler that applies events on a plain asyncpg connection, in the consumer's
    transaction, without the ORM session (analytics: all its writes are text statements,
    and the session's own work per statement was most of its consumer's CPU at a light
    load). It always gets a list: one event, or a batch's new events in order. When a
    batch's list raises, the batch rolls back and each event is given again alone."""

    def decode(self, event: ConsumedEvent) -> MessageT: ...

    def event_id(self, message: MessageT) -> str | None: ...

    async def apply_on(
        self, connection: asyncpg.Connection, items: Sequence[tuple[MessageT, ConsumedEvent]]
    ) -> None: ...


AnyEventHandler = EventHandler[MessageT] | PlainEventHandler[MessageT]
"""What the platform's consumer accepts: a session handler or a plain one."""


def plain_or_session(
    handler: AnyEventHandler[MessageT],
) -> tuple[PlainEventHandler[MessageT] | None, EventHandler[MessageT] | None]:
    """``handler`` as the one kind it is (the other ``None``). Asked once per consumer,
    not per event: a runtime protocol check is slow."""
    if isinstance(handler, PlainEventHandler):
        return handler, None
    return None, handler


@runtime_checkable
class SelectiveEventHandler(EventHandler[MessageT], Protocol[MessageT]):
    """A handler that applies only some of its topic's events (billing reads the patient
    topic for updates and deletions; a creation is the gRPC call's business). The others
    are acknowledged without a transaction and without a processed-event key: applying
    nothing twice is harmless, so they need no protection against redelivery."""

    def applies(self, message: MessageT) -> bool:
        """Whether ``handle`` has anything to do with ``message``."""
        ...


def applies_filter(handler: AnyEventHandler[MessageT]) -> Callable[[MessageT], bool]:
    """Which messages ``handler`` applies: its ``applies`` if it is selective, else all.
    Asked once per consumer, not per event: a runtime protocol check is slow."""
    if isinstance(handler, SelectiveEventHandler):
        return handler.applies
    return _every_message


def _every_message(_message: object) -> bool:
    return True


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
    # asyncpg's own errors, from a plain handler's connection.
    if isinstance(error, asyncpg.PostgresError) and error.sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError) and (
        is_database_unavailable(error)
    )


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
