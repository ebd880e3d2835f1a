import asyncio
import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from pms_contracts.patient_event_pb2 import PatientEvent
from pms_platform.kafka import GATHER_MIN_BYTES, ConsumedEvent, EventConsumer, EventProducer
from pms_testing.kafka import TopicFactory

pytestmark = pytest.mark.integration


def example_event() -> PatientEvent:
    return PatientEvent(
        patientId=str(uuid.uuid4()),
        name="John Doe",
        email="john.doe@example.com",
        event_type="PATIENT_CREATED",
        event_id=str(uuid.uuid4()),
        occurred_at=Timestamp(seconds=1_764_000_000),
        address="123 Main St, Springfield",
        date_of_birth="1985-06-15",
        registered_date="2024-01-10",
    )


async def consume_one(bootstrap_servers: str, topic: str) -> ConsumedEvent:
    consumer = EventConsumer(bootstrap_servers, [topic], group_id=f"test-{uuid.uuid4().hex}")
    async with consumer:
        async with asyncio.timeout(30):
            async for batch in consumer.batches():
                if batch:
                    await consumer.commit(batch)
                    return batch[0]
    raise AssertionError("the consumer stopped without an event")


async def test_a_patient_event_with_headers_comes_back_byte_for_byte(
    kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    topic = await kafka_topic_factory(partitions=3)
    event = example_event()
    headers = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }
    async with EventProducer(kafka_bootstrap_servers) as producer:
        delivered = await producer.send(topic, key=event.patientId, value=event, headers=headers)

    consumed = await consume_one(kafka_bootstrap_servers, topic)

    assert (consumed.topic, consumed.partition, consumed.offset) == (
        delivered.topic,
        delivered.partition,
        delivered.offset,
    )
    assert consumed.value == event.SerializeToString()
    assert consumed.key == event.patientId.encode()
    assert dict(consumed.headers) == headers
    assert consumed.decode(PatientEvent()) == event


async def test_an_idle_consumer_lets_the_broker_hold_its_fetch_and_still_gets_a_record_at_once(
    kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    """Idle, the broker may hold the fetch 20 s; a record sent meanwhile still comes at
    once (the broker answers a held fetch when a record arrives), and the short wait is
    back while records flow."""
    topic = await kafka_topic_factory()
    consumer = EventConsumer(
        kafka_bootstrap_servers,
        [topic],
        group_id=f"test-{uuid.uuid4().hex}",
        fetch_max_wait_ms=50,
        idle_fetch_max_wait_ms=20_000,
    )
    idle_polls_with_the_long_wait = 0
    async with consumer, EventProducer(kafka_bootstrap_servers) as producer:
        async with asyncio.timeout(15):  # well before a held fetch would end by itself
            async for batch in consumer.batches(timeout_ms=200):
                if batch:
                    break
                if consumer.fetch_max_wait_ms == 20_000 and await consumer.positions():
                    idle_polls_with_the_long_wait += 1  # assigned, its fetch held long
                if idle_polls_with_the_long_wait == 3:
                    await producer.send(topic, key="k", value=b"wake up")
        wait_after = consumer.fetch_max_wait_ms

    assert idle_polls_with_the_long_wait >= 3
    assert [event.value for event in batch] == [b"wake up"]
    assert wait_after == 50


async def test_a_stream_of_records_is_gathered_by_the_broker_and_a_lone_one_is_not(
    kafka_bootstrap_servers: str, kafka_topic_factory: TopicFactory
) -> None:
    """After a poll of several records the broker holds the next fetch (up to the gathering
    wait), so records sent apart meanwhile come in one batch; after a poll of one record,
    fetches are answered at once again."""
    topic = await kafka_topic_factory()
    consumer = EventConsumer(
        kafka_bootstrap_servers,
        [topic],
        group_id=f"test-{uuid.uuid4().hex}",
        fetch_max_wait_ms=50,
        gather_max_wait_ms=1000,
    )
    async with EventProducer(kafka_bootstrap_servers) as producer:
        for index in range(5):  # before the consumer starts: its first fetch takes them all
            await producer.send(topic, key="k", value=f"first {index}".encode())
        batches: list[list[bytes]] = []
        fetches: list[tuple[int, int]] = []
        async with consumer, asyncio.timeout(30):
            async for batch in consumer.batches(timeout_ms=100):
                if not batch:
                    continue
                batches.append([event.value for event in batch])
                fetches.append((consumer.fetch_max_wait_ms, consumer.fetch_min_bytes))
                if len(batches) == 1:
                    for index in range(3):  # apart, but all within the gathering wait
                        await producer.send(topic, key="k", value=f"streamed {index}".encode())
                        await asyncio.sleep(0.02)
                elif len(batches) == 2:
                    await producer.send(topic, key="k", value=b"lone")
                elif b"lone" in batches[-1]:
                    break

    assert len(batches[0]) == 5
    assert batches[1] == [b"streamed 0", b"streamed 1", b"streamed 2"]  # one batch, not three
    assert batches[-1] == [b"lone"]
    assert fetches[0] == (1000, GATHER_MIN_BYTES)  # several records: gather
    assert fetches[-1] == (50, 1)  # one record: answered at once again
