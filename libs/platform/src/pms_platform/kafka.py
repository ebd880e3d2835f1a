"""A small Kafka interface with protobuf values and string headers.

aiokafka is the one client behind it: it is pure asyncio, supports per-message headers
(our event ids and trace context travel there) and the idempotent producer, and works
with Kafka 4. The rest of the code sees only :class:`EventProducer`,
:class:`EventConsumer` and :class:`ConsumedEvent`, so the client can be swapped.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, Self, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError

from pms_platform.logging import get_logger

_log = get_logger("pms.kafka")

PartitionKey = tuple[str, int]
"""A partition as ``(topic, partition number)``."""


class ProtobufMessage(Protocol):
    def SerializeToString(self, *, deterministic: bool = ...) -> bytes: ...

    def ParseFromString(self, serialized: bytes, /) -> int: ...


MessageT = TypeVar("MessageT", bound=ProtobufMessage)


@dataclass(frozen=True)
class DeliveredEvent:
    """Where the broker stored a produced event (returned once it acknowledged it)."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class ConsumedEvent:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0

    def decode(self, message: MessageT) -> MessageT:
        """Parse the value into ``message`` (a fresh protobuf instance) and return it."""
        message.ParseFromString(self.value)
        return message


def _encode_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    # str(): aiokafka takes exact str names only, not a StrEnum member (EventHeader...).
    return [(str(name), value.encode()) for name, value in headers.items()]


def _decode_headers(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in headers or ()}


class EventProducer:
    """An idempotent producer (``acks=all``): ``send`` returns only after the broker
    acknowledged the event, so callers can mark it sent safely."""

    def __init__(self, bootstrap_servers: str, *, client_id: str = "pms") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def send(
        self,
        topic: str,
        *,
        key: str | None,
        value: ProtobufMessage | bytes,
        headers: Mapping[str, str] | None = None,
    ) -> DeliveredEvent:
        payload = value if isinstance(value, bytes) else value.SerializeToString()
        metadata = await self._producer.send_and_wait(
            topic,
            value=payload,
            key=key.encode() if key is not None else None,
            headers=_encode_headers(headers or {}),
        )
        return DeliveredEvent(metadata.topic, metadata.partition, metadata.offset)


GATHER_MIN_BYTES = 64 * 1024
"""What a gathering fetch waits for (see ``EventConsumer``): well above what a moderate
stream brings in the gathering wait, so that the wait ends it; a heavy stream (a replay)
fills it at once and is not slowed."""


class EventConsumer:
    """A consumer-group member that commits offsets only when told to, after the
    consumer's own work (a database commit) is durable."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        *,
        group_id: str,
        client_id: str = "pms",
        max_poll_records: int = 500,
        fetch_max_wait_ms: int = 500,
        idle_fetch_max_wait_ms: int | None = None,
        gather_max_wait_ms: int = 0,
    ) -> None:
        """``fetch_max_wait_ms``: how long the broker may hold a fetch that finds no new
        records. aiokafka has one fetch in flight per broker, so while it waits on idle
        partitions, records arriving on busy ones wait too: a consumer of a busy topic
        and an idle one sees up to this much extra delay.

        ``idle_fetch_max_wait_ms``: the broker's wait once a poll of :meth:`batches` found
        nothing, until records come again. Idle, every partition is in the one fetch and
        the broker answers it as soon as any of them gets a record, so a long wait delays
        nothing; it only spares the round trips (a short ``fetch_max_wait_ms`` costs
        1000 / it fetches a second). Keep it well below the request timeout (40 s).

        ``gather_max_wait_ms``: once a poll brought more than one record (they stream in
        faster than a poll each), the broker holds the next fetch until
        :data:`GATHER_MIN_BYTES` have come or this much time has passed, so that a
        moderate stream arrives in batches instead of a record a fetch (the broker
        answers a fetch as soon as it has one record, and aiokafka fetches a partition
        again only once its records were handed out: the client cannot gather them).
        A poll of one record goes back to answering at once, so a lone record never
        waits; 0: never gather."""
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._idle_fetch_max_wait_ms = idle_fetch_max_wait_ms
        self._gather_max_wait_ms = gather_max_wait_ms
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            fetch_max_wait_ms=fetch_max_wait_ms,
            isolation_level="read_committed",
            # Round robin among ourselves, as before; range is what a member running
            # the Java client with its defaults (range, cooperative-sticky) also offers,
            # so a group shared with one agrees on range instead of refusing it.
            partition_assignment_strategy=(RoundRobinPartitionAssignor, RangePartitionAssignor),
            # How often aiokafka's fetch loop wakes up with nothing to react to (200 ms by
            # default): fetch answers, consumed records, rebalances and metadata wake it
            # anyway, so a consumer that saves idle wakeups ticks once a second.
            consumer_timeout_ms=200 if idle_fetch_max_wait_ms is None else 1000,
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def batches(
        self, timeout_ms: int = 500, idle_timeout_ms: int | None = None
    ) -> AsyncIterator[list[ConsumedEvent]]:
        """Yield the events of each poll (possibly empty, so callers can notice a stop).

        Each poll waits up to ``timeout_ms`` for records, or ``idle_timeout_ms`` once a
        poll found nothing (a caller with nothing to do while idle need not wake up).
        With an idle fetch wait (see the constructor), a poll that found nothing also
        makes the broker hold fetches that long, until a poll finds records."""
        idle = False
        while True:
            wait_ms = idle_timeout_ms if idle and idle_timeout_ms is not None else timeout_ms
            polled = await self._consumer.getmany(timeout_ms=wait_ms)
            idle = not polled
            self._set_fetch(sum(len(records) for records in polled.values()))
            yield [
                ConsumedEvent(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key,
                    value=record.value or b"",
                    headers=_decode_headers(record.headers),
                    timestamp_ms=record.timestamp,
                )
                for records in polled.values()
                for record in records
            ]

    @property
    def fetch_max_wait_ms(self) -> int:
        """How long the broker may now hold a fetch that finds nothing (it changes when
        the consumer falls idle and wakes up)."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        return int(getattr(fetcher, "_fetch_max_wait_ms", self._fetch_max_wait_ms))

    @property
    def fetch_min_bytes(self) -> int:
        """How much the broker now waits for before it answers a fetch (more than one
        byte while a stream of records is being gathered)."""
        fetcher = getattr(self._consumer, "_fetcher", None)
        return int(getattr(fetcher, "_fetch_min_bytes", 1))

    def _set_fetch(self, polled: int) -> None:
        """The next fetches' wait and minimum size, after a poll of ``polled`` records."""
        if not polled:
            if self._idle_fetch_max_wait_ms is None:
                return
            wait_ms, min_bytes = self._idle_fetch_max_wait_ms, 1
        elif polled > 1 and self._gather_max_wait_ms > 0:
            wait_ms, min_bytes = self._gather_max_wait_ms, GATHER_MIN_BYTES
        else:
            wait_ms, min_bytes = self._fetch_max_wait_ms, 1
        # aiokafka has no public setter, but its fetcher reads these attributes for every
        # fetch request it builds (test_kafka_integration checks them on the pinned
        # version). Should they go, the fetches just stay as configured.
        fetcher = getattr(self._consumer, "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = wait_ms
        if fetcher is not None and hasattr(fetcher, "_fetch_min_bytes"):
            fetcher._fetch_min_bytes = min_bytes

    async def commit(self, events: Sequence[ConsumedEvent]) -> None:
        """Commit, per partition, the offset after the last of ``events``."""
        next_offsets: dict[TopicPartition, int] = {}
        for event in events:
            partition = TopicPartition(event.topic, event.partition)
            next_offsets[partition] = max(next_offsets.get(partition, 0), event.offset + 1)
        if next_offsets:
            await self._consumer.commit(next_offsets)

    async def positions(self) -> dict[PartitionKey, int]:
        """The offset of the next record to hand out, per assigned partition whose
        position is known (read-only: nothing is fetched, sought or committed)."""
        found: dict[PartitionKey, int] = {}
        for partition in self._consumer.assignment():
            try:
                # Immediate once the position is known; bounded while it is being reset.
                position = await asyncio.wait_for(self._consumer.position(partition), 1.0)
            except (IllegalStateError, TimeoutError):
                continue  # revoked meanwhile, or no position yet
            found[(partition.topic, partition.partition)] = position
        return found

    async def lag(self) -> dict[PartitionKey, int]:
        """Records not yet handed out, per assigned partition: the high-water mark of the
        last fetch minus the position. Partitions not fetched from yet are left out."""
        lags: dict[PartitionKey, int] = {}
        for key, position in (await self.positions()).items():
            try:
                highwater = self._consumer.highwater(TopicPartition(*key))
            except AssertionError:  # aiokafka asserts the partition is still assigned
                continue
            if highwater is not None:
                lags[key] = max(highwater - position, 0)
        return lags


# The offset tools below (``pms analytics rebuild``, tests) use aiokafka's admin client,
# which no serving process needs: it is imported by each of them, not at start-up.


class GroupActiveError(Exception):
    """The consumer group has live members, so its offsets cannot be set from outside."""


@dataclass(frozen=True)
class TopicOffsets:
    """The first and the next offset of every partition of some topics."""

    beginning: dict[PartitionKey, int]
    end: dict[PartitionKey, int]


async def topic_offsets(bootstrap_servers: str, topics: Sequence[str]) -> TopicOffsets:
    """The beginning and end (high-water) offsets of every partition of ``topics``;
    ``LookupError`` names a topic that does not exist."""
    from aiokafka.admin import AIOKafkaAdminClient  # only for these tools: see above

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    partitions: list[TopicPartition] = []
    for topic in described:
        if topic["error_code"] or not topic["partitions"]:
            raise LookupError(f"topic {topic['topic']} does not exist")
        partitions += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        beginning = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return TopicOffsets(
        beginning={(tp.topic, tp.partition): offset for tp, offset in beginning.items()},
        end={(tp.topic, tp.partition): offset for tp, offset in end.items()},
    )


async def group_offsets(bootstrap_servers: str, group_id: str) -> dict[PartitionKey, int]:
    """The offsets ``group_id`` has committed (partitions without one are left out)."""
    from aiokafka.admin import AIOKafkaAdminClient  # only for these tools: see above

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {
        (partition.topic, partition.partition): found.offset
        for partition, found in committed.items()
        if found.offset >= 0
    }


async def set_group_offsets(
    bootstrap_servers: str, group_id: str, offsets: Mapping[PartitionKey, int]
) -> None:
    """Commit ``offsets`` (the next record to read, per partition) for ``group_id`` from
    outside the group, as ``kafka-consumer-groups --reset-offsets`` does. Kafka accepts it
    only while the group has no members: :class:`GroupActiveError` otherwise."""
    partitions = {TopicPartition(*key): offset for key, offset in offsets.items()}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        await consumer.commit(partitions)
    except CommitFailedError:
        raise GroupActiveError(f"consumer group {group_id} has active members") from None
    finally:
        await consumer.stop()


async def check_kafka_reachable(bootstrap_servers: str) -> None:
    """Raise unless a broker answers a metadata request (a readiness check)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
    try:
        await client.bootstrap()
    finally:
        await client.close()
