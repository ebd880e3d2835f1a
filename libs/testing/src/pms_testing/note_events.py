"""The notes the platform's consumer tests deliver and apply: JSON events
``{"note": ..., "id": ...}`` whose handlers add a row to ``applied``, with the
processed-event keys beside it. Shared so that the session and the plain handler are tested
against the same tables and the same events."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Column, String, Table, select

from pms_platform.db import Database, service_metadata
from pms_platform.event_handlers import processed_events_table
from pms_platform.kafka import EventProducer
from pms_testing.databases import DatabaseFactory
from pms_testing.kafka import TopicFactory

METADATA = service_metadata()
PROCESSED = processed_events_table(METADATA)
APPLIED = Table("applied", METADATA, Column("note", String(100), nullable=False))


@asynccontextmanager
async def notes_database(database_factory: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh database with ``applied`` and the processed-event keys."""
    database = Database(await database_factory(None))
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        yield database
    finally:
        await database.dispose()


async def topic_and_dead_letters(kafka_topic_factory: TopicFactory) -> tuple[str, str]:
    return await kafka_topic_factory(), await kafka_topic_factory()


def note(text: str, event_id: str | None = None) -> bytes:
    """A note event; without ``event_id`` the consumer keys it by its offset."""
    return json.dumps({"note": text, **({"id": event_id} if event_id else {})}).encode()


async def send(bootstrap_servers: str, topic: str, *values: bytes) -> None:
    async with EventProducer(bootstrap_servers) as producer:
        for value in values:
            await producer.send(topic, key="k", value=value)


async def applied_notes(database: Database) -> list[str]:
    async with database.transaction() as session:
        return list((await session.scalars(select(APPLIED.c.note))).all())
