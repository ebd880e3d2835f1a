"""A polled batch of events applied in one transaction, for
:class:`~pms_platform.event_consumer.IdempotentConsumer`: the batch's processed-event
keys claimed in one statement, its new events handled in order (all at once when the
handler is a :class:`~pms_platform.event_handlers.BatchEventHandler`), one commit. Under
load that is one transaction and one claim per batch instead of per event. Events a
:class:`~pms_platform.event_handlers.SelectiveEventHandler` does not apply get no key, and
a batch of only such events no transaction.

Anything that fails rolls the whole batch back, and the consumer then applies its events
one transaction each (:meth:`BatchApplier.apply_one`), which tells a poison event from its
neighbours and retries the rest; the failure says which event's handler raised (that
counts as its first attempt).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic

import asyncpg
from sqlalchemy import Table, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.vocabulary import EventHeader
from pms_platform.db import Database
from pms_platform.event_handlers import (
    AnyEventHandler,
    BatchEventHandler,
    EventHandler,
    EventOutcome,
    MessageT,
    PlainEventHandler,
    applies_filter,
    fallback_event_key,
    plain_or_session,
)
from pms_platform.kafka import ConsumedEvent
from pms_platform.logging import get_logger
from pms_platform.plain_sql import PlainStatement
from pms_platform.request_context import bound_request_id

_log = get_logger("pms.consumer")

BatchFailure = tuple[int | None, Exception | None]
"""Why a batch was not applied together: the index of the event whose handler raised
(``None``: no handler raised) and the error (``None``: the batch was not tried)."""


@dataclass
class _HandlerFailed(Exception):
    """The handler of the batch's event at ``index`` raised ``error``."""

    index: int
    error: Exception


async def claim_event_keys(
    session: AsyncSession, table: Table, keys: Sequence[str], topics: Sequence[str]
) -> set[str]:
    """Insert the processed-event ``keys`` (with their topics) in one statement; the ones
    not seen before."""
    parameters = {"keys": list(keys), "topics": list(topics)}
    claimed = await session.execute(_claim_statement(table), parameters)
    return set(claimed.scalars())


async def claim_event_keys_on(
    connection: asyncpg.Connection, table: Table, keys: Sequence[str], topics: Sequence[str]
) -> set[str]:
    """:func:`claim_event_keys` on a plain connection (a :class:`PlainEventHandler`'s)."""
    statement = _plain_claim_statement(table)
    rows = await connection.fetch(statement.sql, list(keys), list(topics))
    return {row[0] for row in rows}


@functools.cache
def _plain_claim_statement(table: Table) -> PlainStatement:
    return PlainStatement.of(_claim_statement(table))


@functools.cache
def _claim_statement(table: Table) -> TextClause:
    # Plain text, built once per table: the Core construct it replaces was compiled from
    # a cache key computed anew for every claim, a tenth of a consumer's CPU under load.
    return text(
        f"INSERT INTO {table.name} (event_key, topic)"  # noqa: S608 (our own table's name)
        " SELECT * FROM unnest(CAST(:keys AS varchar[]), CAST(:topics AS varchar[]))"
        " ON CONFLICT DO NOTHING RETURNING event_key"
    )


class BatchApplier(Generic[MessageT]):
    def __init__(
        self, database: Database, processed_table: Table, handler: AnyEventHandler[MessageT]
    ) -> None:
        self._database = database
        self._table = processed_table
        self._handler = handler
        self._applies = applies_filter(handler)
        self._plain, self._session_handler = plain_or_session(handler)

    async def apply_one(self, key: str, message: MessageT, event: ConsumedEvent) -> bool:
        """Claim ``key`` and apply one event, in one transaction; ``False`` (nothing
        applied) when the key was claimed before: a redelivery."""
        keys, topics = [key[:255]], [event.topic]
        plain, session_handler = self._plain, self._session_handler
        if plain is not None:
            async with self._database.connection() as connection, connection.transaction():
                if not await claim_event_keys_on(connection, self._table, keys, topics):
                    return False
                await plain.apply_on(connection, [(message, event)])
        elif session_handler is not None:
            async with self._database.transaction() as session:
                if not await claim_event_keys(session, self._table, keys, topics):
                    return False
                await session_handler.handle(session, message, event)
        return True

    async def apply(self, batch: list[ConsumedEvent]) -> list[EventOutcome] | BatchFailure:
        """Each event's outcome, the batch applied and committed; else why not (a single
        event, one that does not decode, a failure that rolled it back), and the caller
        takes the events one by one."""
        if len(batch) < 2:
            return (None, None)
        try:
            decoded = [(event, self._handler.decode(event)) for event in batch]
        except Exception:
            return (None, None)
        wanted = [self._applies(message) for _, message in decoded]
        if not any(wanted):
            return [EventOutcome.IGNORED] * len(batch)  # nothing to write, no transaction
        keys = [
            (self._handler.event_id(message) or fallback_event_key(event))[:255]
            for event, message in decoded
        ]
        claimed = [
            (key, event.topic) for key, event, w in zip(keys, batch, wanted, strict=True) if w
        ]
        claim_keys, claim_topics = [k for k, _ in claimed], [t for _, t in claimed]
        try:
            plain, session_handler = self._plain, self._session_handler
            if plain is not None:
                async with self._database.connection() as connection, connection.transaction():
                    new_keys = await claim_event_keys_on(
                        connection, self._table, claim_keys, claim_topics
                    )
                    outcomes, fresh = _sort_out(decoded, keys, wanted, new_keys)
                    await _apply_fresh_on(plain, connection, fresh)
            elif session_handler is not None:
                async with self._database.transaction() as session:
                    new_keys = await claim_event_keys(
                        session, self._table, claim_keys, claim_topics
                    )
                    outcomes, fresh = _sort_out(decoded, keys, wanted, new_keys)
                    await _handle_fresh_in(session_handler, session, fresh)
        except Exception as error:
            _log.info("batch rolled back; applying it event by event", error=type(error).__name__)
            if isinstance(error, _HandlerFailed):
                return (error.index, error.error)
            return (None, error)
        return outcomes


def _sort_out(
    decoded: Sequence[tuple[ConsumedEvent, MessageT]],
    keys: Sequence[str],
    wanted: Sequence[bool],
    new_keys: set[str],
) -> tuple[list[EventOutcome], list[tuple[int, MessageT, ConsumedEvent]]]:
    """Each event's outcome, and the new ones to apply (with their place in the batch)."""
    outcomes: list[EventOutcome] = []
    fresh: list[tuple[int, MessageT, ConsumedEvent]] = []
    for index, ((event, message), key) in enumerate(zip(decoded, keys, strict=True)):
        if not wanted[index]:
            outcomes.append(EventOutcome.IGNORED)
        elif key in new_keys:
            new_keys.discard(key)  # a second copy in this batch is a duplicate
            fresh.append((index, message, event))
            outcomes.append(EventOutcome.APPLIED)
        else:
            _log.info("duplicate event skipped", topic=event.topic, offset=event.offset)
            outcomes.append(EventOutcome.DUPLICATE)
    return outcomes, fresh


async def _apply_fresh_on(
    handler: PlainEventHandler[MessageT],
    connection: asyncpg.Connection,
    fresh: list[tuple[int, MessageT, ConsumedEvent]],
) -> None:
    """A plain handler's share of a batch: all at once; a lone event's failure names it
    (which counts as its first attempt), like a session handler's."""
    if len(fresh) == 1:
        index, message, event = fresh[0]
        try:
            with bound_request_id(event.headers.get(EventHeader.REQUEST_ID)):
                await handler.apply_on(connection, [(message, event)])
        except Exception as error:
            raise _HandlerFailed(index, error) from error
    elif fresh:
        await handler.apply_on(connection, [(m, e) for _, m, e in fresh])


async def _handle_fresh_in(
    handler: EventHandler[MessageT],
    session: AsyncSession,
    fresh: list[tuple[int, MessageT, ConsumedEvent]],
) -> None:
    """The batch's new events (with their place in it), in order: all at once if the
    handler can, else one by one (a failure then names the event, which counts it as
    its first attempt)."""
    if isinstance(handler, BatchEventHandler) and len(fresh) > 1:
        await handler.handle_all(session, [(m, e) for _, m, e in fresh])
        return
    for index, message, event in fresh:
        try:
            with bound_request_id(event.headers.get(EventHeader.REQUEST_ID)):
                await handler.handle(session, message, event)
        except Exception as error:
            raise _HandlerFailed(index, error) from error
