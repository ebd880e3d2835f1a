"""A small Kafka interface with protobuf values and string headers.

aiokafka is the one client behind it: it is pure asyncio, supports per-message headers
(our event ids and trace context travel there) and the idempotent producer, and works
with Kafka 4. The rest of the code sees only :class:`EventProducer`,
:class:`EventConsumer` and :class:`ConsumedEvent`, so the client can be swapped.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, Self, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.client import AIOKafkaClient

from pms_platform.logging import get_logger

_log = get_logger("pms.kafka")


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
    return [(name, value.encode()) for name, value in headers.items()]


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
    ) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            isolation_level="read_committed",
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

    async def batches(self, timeout_ms: int = 500) -> AsyncIterator[list[ConsumedEvent]]:
        """Yield the events of each poll (possibly empty, so callers can notice a stop)."""
        while True:
            polled = await self._consumer.getmany(timeout_ms=timeout_ms)
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

    async def commit(self, events: Sequence[ConsumedEvent]) -> None:
        """Commit, per partition, the offset after the last of ``events``."""
        next_offsets: dict[TopicPartition, int] = {}
        for event in events:
            partition = TopicPartition(event.topic, event.partition)
            next_offsets[partition] = max(next_offsets.get(partition, 0), event.offset + 1)
        if next_offsets:
            await self._consumer.commit(next_offsets)


async def check_kafka_reachable(bootstrap_servers: str) -> None:
    """Raise unless a broker answers a metadata request (a readiness check)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
    try:
        await client.bootstrap()
    finally:
        await client.close()
