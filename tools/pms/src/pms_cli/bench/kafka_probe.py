"""Where the events lag goes: the moment each patient's event reaches Kafka.

A consumer of its own (no group: it joins nobody, commits nothing, disturbs no other
reader) reads topic ``patient`` from its end while the events scenario runs, and notes
when each record key (the patient id) is first seen. Compared with that patient's 201,
this splits the lag into "to Kafka" (outbox relay, producer, broker) and the rest
(analytics consuming, applying, committing, answering the summary).
"""

import asyncio
import contextlib
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from pms_cli.bench.stats import percentile

ASSIGN_TIMEOUT_SECONDS = 10.0


class KafkaProbe:
    def __init__(self, bootstrap_servers: str, topic: str = "patient") -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        self.topic = topic
        self.first_seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        # Without a group every partition is assigned to us at once; positions are taken
        # at the end ("latest") before any create is sent.
        self.consumer.subscribe([self.topic])
        deadline = time.monotonic() + ASSIGN_TIMEOUT_SECONDS
        while not self.consumer.assignment():
            if time.monotonic() > deadline:
                await self.consumer.stop()
                raise KafkaError(f"no partitions of {self.topic!r} assigned")
            await self.consumer.getmany(timeout_ms=100)
        for partition in self.consumer.assignment():
            await self.consumer.position(partition)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for record in self.consumer:
            if record.key is None:
                continue
            key = record.key.decode(errors="replace")
            self.first_seen.setdefault(key, time.monotonic())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


def to_kafka_ms(answered: dict[str, float], first_seen: dict[str, float]) -> dict[str, object]:
    """Per patient: from its 201 to its event first seen in Kafka (negative when the
    event was there before the answer reached the client)."""
    lags = [(first_seen[key] - at) * 1000 for key, at in answered.items() if key in first_seen]
    return {
        "p50": round(percentile(lags, 50), 1),
        "p90": round(percentile(lags, 90), 1),
        "p99": round(percentile(lags, 99), 1),
        "seen": len(lags),
        "not_seen": len(answered) - len(lags),
    }
