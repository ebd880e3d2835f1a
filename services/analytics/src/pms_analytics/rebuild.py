"""``python -m pms_analytics rebuild``: empty the aggregates and replay both topics from
their beginning, ending with the numbers a consumer that never stopped would have.

This is the one module of analytics that opens its own transactions (it takes the
``Database``): the rebuild runs outside any request or consumed event, so no transport
opens one for it. It empties the aggregates in a transaction of its own (committed
before the replay starts, retried when the failure is transient), lets the replaying
consumer commit one transaction per polled batch as it always does, and reads the
resulting totals in a last one.

The steps, in an order that keeps every interruption recoverable:

1. Note the offsets the service's consumer group has committed (what it has handled),
   then set them to the topics' beginnings. Kafka allows that only while the group has
   no members; if analytics instances are running, the offsets are left alone.
2. In one transaction, empty the aggregate tables and the processed-events keys.
3. Note the topics' end offsets (the marks); everything before them existed before
   step 2, so the replay must apply it.
4. Replay from the beginning, in a throw-away consumer group, through the service's own
   idempotent consumer and handler, until every partition reached its mark.
5. Set the service group's offsets to the marks (when step 1 could), so instances
   started afterwards continue there instead of skipping the whole history again.

Running instances need not be stopped: they and the replay share the processed-events
keys, so each event is applied once whoever gets it first (as two instances of the
service would), and the emptying locks the tables in the order the consumers use them.
Reports show partial numbers until the replay ends. If the rebuild is interrupted, run
it again. (With the instances stopped, starting them also completes an interrupted
replay, as step 1 moved their group back to the beginning and step 2 emptied the keys,
unless the interruption fell between steps 1 and 2.)

Poison events are dead-lettered again only if the service had not consumed them yet
(it dead-lettered the others when it did).
"""

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from pms_analytics.aggregates import AnalyticsChange
from pms_analytics.handlers import analytics_consumer
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_contracts.vocabulary import DeadLetterHeader
from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import is_transient
from pms_platform.kafka import (
    EventConsumer,
    GroupActiveError,
    PartitionKey,
    group_offsets,
    set_group_offsets,
    topic_offsets,
)
from pms_platform.logging import get_logger

_log = get_logger("pms.analytics.rebuild")


class RebuildStalledError(Exception):
    """The replay made no progress for ``rebuild_idle_timeout_seconds``."""


@dataclass(frozen=True)
class RebuildReport:
    marks: dict[PartitionKey, int]
    outcomes: dict[str, int]  # applied, duplicate, dead_lettered
    group_offsets_set: bool
    seconds: float


async def rebuild(settings: AnalyticsSettings) -> RebuildReport:
    started = time.monotonic()
    servers, group = settings.kafka_bootstrap_servers, settings.consumer_group
    database = Database.from_settings(settings)
    service = AnalyticsService()
    try:
        handled = await group_offsets(servers, group)
        beginnings = (await topic_offsets(servers, settings.topics)).beginning
        group_is_idle = await _try_set_offsets(servers, group, beginnings)
        await _empty_aggregates(database, service)
        marks = (await topic_offsets(servers, settings.topics)).end
        _log.info("aggregates emptied; replaying", partitions=len(marks), group_idle=group_is_idle)

        def not_dead_lettered_yet(headers: Mapping[str, str]) -> bool:
            origin = (
                headers[DeadLetterHeader.ORIGINAL_TOPIC],
                int(headers[DeadLetterHeader.ORIGINAL_PARTITION]),
            )
            return int(headers[DeadLetterHeader.ORIGINAL_OFFSET]) >= handled.get(origin, 0)

        replay_group = f"{group}-rebuild-{uuid.uuid4().hex[:12]}"  # never commits
        replayer = analytics_consumer(
            database,
            settings,
            service=service,
            group_id=replay_group,
            should_dead_letter=not_dead_lettered_yet,
        )
        try:
            await _replay(replayer, replay_group, settings, beginnings, marks)
        finally:
            await replayer.stop()  # closes its dead-letter producer
        offsets_set = group_is_idle and await _try_set_offsets(servers, group, marks)
    finally:
        await database.dispose()
    return RebuildReport(marks, dict(replayer.outcomes), offsets_set, time.monotonic() - started)


async def _empty_aggregates(
    database: Database, service: AnalyticsService, attempts: int = 5
) -> None:
    for attempt in range(1, attempts + 1):
        try:
            async with database.transaction() as session:
                await service.empty_aggregates(session)
            return
        except Exception as error:  # a lost connection or a lock timeout: try again
            if attempt == attempts or not is_transient(error):
                raise
            _log.warning("emptying the aggregates failed; retrying", error=type(error).__name__)
            await asyncio.sleep(0.5 * attempt)


async def _try_set_offsets(servers: str, group: str, offsets: dict[PartitionKey, int]) -> bool:
    try:
        await set_group_offsets(servers, group, offsets)
    except GroupActiveError:
        _log.warning("analytics instances are running; their group offsets are left alone")
        return False
    return True


async def _replay(
    replayer: IdempotentConsumer[AnalyticsChange],
    group_id: str,
    settings: AnalyticsSettings,
    beginnings: dict[PartitionKey, int],
    marks: dict[PartitionKey, int],
) -> None:
    """Apply every event before the marks (later ones are left to the service)."""
    pending = {key for key, mark in marks.items() if mark > beginnings.get(key, 0)}
    consumer = EventConsumer(
        settings.kafka_bootstrap_servers,
        settings.topics,
        group_id=group_id,
        client_id=settings.kafka_client_id,
        max_poll_records=settings.consumer_max_poll_records,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
    last_progress = time.monotonic()
    async with consumer:
        async for batch in consumer.batches():
            due = [e for e in batch if e.offset < marks.get((e.topic, e.partition), 0)]
            if due:
                await replayer.process_batch(due)  # one transaction, set-based SQL
            if batch:
                last_progress = time.monotonic()
            positions = await consumer.positions()
            pending = {key for key in pending if positions.get(key, -1) < marks[key]}
            if not pending:
                return
            if time.monotonic() - last_progress > settings.rebuild_idle_timeout_seconds:
                raise RebuildStalledError(f"no progress; {len(pending)} partitions behind")


async def rebuild_command(settings: AnalyticsSettings) -> None:
    """The ``rebuild`` command: run it and log what it did and the resulting totals."""
    report = await rebuild(settings)
    database = Database.from_settings(settings)
    try:
        async with database.connection() as connection:
            totals = await AnalyticsService().summary(connection)
    finally:
        await database.dispose()
    _log.info(
        "rebuild finished",
        seconds=round(report.seconds, 1),
        group_offsets_set=report.group_offsets_set,
        **report.outcomes,
        **totals.patients.model_dump(by_alias=True),
    )
