"""Transactional outbox: an event is stored in the transaction of the change it describes
and relayed to Kafka afterwards, so a Kafka outage delays events but never loses them.

- :func:`outbox_table` defines a service's outbox table on its own ``MetaData`` (its
  migration creates the same columns and indexes by hand).
- :func:`enqueue` adds an event to the caller's transaction and, in the same
  transaction, notifies the relay (``pg_notify``; delivered only if the commit succeeds).

The relay that publishes the table is :class:`pms_platform.outbox_relay.OutboxRelay`.
Callers keep id order equal to commit order for one key by serialising the changes of
one key (for example by locking the aggregate's row before enqueueing).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.vocabulary import EventHeader
from pms_platform.kafka import ProtobufMessage
from pms_platform.request_context import current_request_id, current_traceparent

DEFAULT_OUTBOX_TABLE = "outbox_events"


def outbox_table(metadata: MetaData, name: str = DEFAULT_OUTBOX_TABLE) -> Table:
    """The outbox table of one service. Its ``LISTEN`` channel is the table's name.

    Columns: ``id`` (publication order), ``topic``, ``key`` (the record key; ``NULL``
    for events without order), ``value`` (the serialised event), ``headers`` (a JSON
    object of strings), ``created_at``, ``sent_at`` (``NULL`` until the broker
    acknowledged), ``attempts`` and ``last_error`` (for operators).
    """
    return Table(
        name,
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text, nullable=True),
        # The relay reads unsent rows in id order, and per key for its ordering check.
        Index(f"ix_{name}_unsent", "id", postgresql_where=text("sent_at IS NULL")),
        Index(f"ix_{name}_unsent_key", "key", "id", postgresql_where=text("sent_at IS NULL")),
        Index(f"ix_{name}_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    )


@dataclass(frozen=True)
class OutboxEntry:
    """One event as its outbox row stores it: ``value`` serialised, ``headers`` with the
    current request id and trace context added (unless the caller set them)."""

    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str]

    @classmethod
    def of(
        cls,
        *,
        topic: str,
        key: str | None,
        value: ProtobufMessage | bytes,
        headers: Mapping[str, str] | None = None,
    ) -> "OutboxEntry":
        merged = dict(headers or {})
        if (request_id := current_request_id()) is not None:
            merged.setdefault(EventHeader.REQUEST_ID, request_id)
        if (traceparent := current_traceparent()) is not None:
            merged.setdefault(EventHeader.TRACEPARENT, traceparent)
        payload = value if isinstance(value, bytes) else value.SerializeToString()
        return cls(topic, key, payload, merged)

    @classmethod
    def of_event(
        cls,
        *,
        topic: str,
        key: str,
        value: ProtobufMessage,
        event_id: str,
        event_type: str,
    ) -> "OutboxEntry":
        """A domain event, with the event id and type headers consumers deduplicate and
        dispatch on."""
        headers = {EventHeader.EVENT_ID.value: event_id, EventHeader.EVENT_TYPE.value: event_type}
        return cls.of(topic=topic, key=key, value=value, headers=headers)

    @property
    def headers_json(self) -> str:
        """The headers as the ``jsonb`` text a plain asyncpg statement sends."""
        return orjson.dumps(self.headers, option=orjson.OPT_NON_STR_KEYS).decode()


async def enqueue(
    session: AsyncSession,
    table: Table,
    *,
    topic: str,
    key: str | None,
    value: ProtobufMessage | bytes,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Store an event in the caller's transaction; returns its outbox id.

    The current request id and trace context are added to the headers unless the
    caller set them. The relay is notified in the same statement; PostgreSQL delivers
    the notification only when the transaction commits. (A statement on a plain
    connection that writes its own row takes an :class:`OutboxEntry` and calls
    ``pg_notify`` itself.)
    """
    return await enqueue_entry(
        session, table, OutboxEntry.of(topic=topic, key=key, value=value, headers=headers)
    )


async def enqueue_entry(session: AsyncSession, table: Table, entry: OutboxEntry) -> int:
    """:func:`enqueue` of an entry already built; returns its outbox id."""
    statement = (
        insert(table)
        .values(topic=entry.topic, key=entry.key, value=entry.value, headers=entry.headers)
        .returning(table.c.id, func.pg_notify(table.name, ""))
    )
    row = (await session.execute(statement)).one()
    return int(row[0])
