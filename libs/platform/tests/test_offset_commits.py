"""When the consumer's offsets go to the broker (PendingOffsets, with a fake Kafka
consumer and clock: the loop itself is tested against the real broker)."""

from collections.abc import Sequence
from typing import cast

from pms_platform.kafka import ConsumedEvent, EventConsumer
from pms_platform.offset_commits import PendingOffsets


class FakeConsumer:
    def __init__(self, failures: int = 0) -> None:
        self.commits: list[dict[tuple[str, int], int]] = []
        self.failures = failures

    async def commit(self, events: Sequence[ConsumedEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker away")
        self.commits.append({(e.topic, e.partition): e.offset + 1 for e in events})


def event(partition: int, offset: int, topic: str = "patient") -> ConsumedEvent:
    return ConsumedEvent(topic=topic, partition=partition, offset=offset, key=None, value=b"")


def pending(interval: float) -> tuple[PendingOffsets, list[float]]:
    now = [100.0]
    return PendingOffsets(interval, clock=lambda: now[0]), now


async def test_offsets_wait_for_the_interval_then_go_in_one_commit() -> None:
    offsets, now = pending(1.0)
    fake = FakeConsumer()
    broker = cast(EventConsumer, fake)

    offsets.add([event(0, 5), event(1, 9)])
    await offsets.commit_if_due(broker, caught_up=False)
    now[0] += 0.5
    offsets.add([event(0, 6)])
    await offsets.commit_if_due(broker, caught_up=False)
    assert fake.commits == []

    now[0] += 0.5
    await offsets.commit_if_due(broker, caught_up=False)
    assert fake.commits == [{("patient", 0): 7, ("patient", 1): 10}]
    assert len(offsets) == 0


async def test_a_consumer_that_caught_up_or_dead_lettered_commits_at_once() -> None:
    offsets, _ = pending(3600.0)
    fake = FakeConsumer()
    broker = cast(EventConsumer, fake)

    offsets.add([event(0, 1)])
    await offsets.commit_if_due(broker, caught_up=True)
    offsets.add([event(0, 2)], urgent=True)
    await offsets.commit_if_due(broker, caught_up=False)

    assert fake.commits == [{("patient", 0): 2}, {("patient", 0): 3}]


async def test_an_interval_of_zero_commits_after_every_batch() -> None:
    offsets, _ = pending(0.0)
    fake = FakeConsumer()

    for offset in range(3):
        offsets.add([event(0, offset)])
        await offsets.commit_if_due(cast(EventConsumer, fake), caught_up=False)

    assert len(fake.commits) == 3


async def test_a_later_offset_is_kept_whatever_order_the_events_come_in() -> None:
    offsets, _ = pending(0.0)
    fake = FakeConsumer()

    offsets.add([event(0, 8), event(0, 3)])
    await offsets.commit(cast(EventConsumer, fake))

    assert fake.commits == [{("patient", 0): 9}]


async def test_a_failed_commit_is_dropped_and_the_next_carries_the_later_offsets() -> None:
    offsets, _ = pending(0.0)
    fake = FakeConsumer(failures=1)
    broker = cast(EventConsumer, fake)

    offsets.add([event(0, 4), event(1, 1)])
    await offsets.commit(broker)  # refused: logged, not raised
    offsets.add([event(0, 5)])
    await offsets.commit(broker)

    assert fake.commits == [{("patient", 0): 6}]
    await offsets.commit(broker)  # nothing pending: no commit at all
    assert len(fake.commits) == 1
