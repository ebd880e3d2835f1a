"""The consumer on real topics: redeliveries counted once, the original producer's
events accepted, poison messages dead-lettered, and its work on ``/metrics``."""

import asyncio
import uuid
from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from pms_analytics.models import processed_events
from pms_platform.kafka import EventConsumer, EventProducer
from pms_testing.kafka import TopicFactory, read_topic
from pms_testing.polling import eventually

from .conftest import Analytics, billing_event, original_patient_event, patient_event

pytestmark = pytest.mark.integration


async def metric_samples(analytics: Analytics, name: str) -> dict[tuple[str, ...], float]:
    """The samples of one metric on ``/metrics``, by their label values (sorted by name)."""
    text = (await analytics.http.get("/metrics")).text
    return {
        tuple(value for _, value in sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def event_keys(analytics: Analytics) -> set[str]:
    async with analytics.database.transaction() as session:
        return set((await session.scalars(select(processed_events.c.event_key))).all())


async def test_an_event_delivered_twice_is_counted_once(
    analytics: Analytics, producer: EventProducer
) -> None:
    patient_id, topic = str(uuid.uuid4()), analytics.topics.patient
    created = patient_event(patient_id, "PATIENT_CREATED", born=date(1990, 1, 1))
    paid = billing_event("INVOICE_PAID", patient_id=patient_id, amount_minor=700, currency="GBP")
    for _ in range(2):  # the outbox relay may publish an event twice
        await producer.send(topic, key=patient_id, value=created)
        await producer.send(analytics.topics.billing, key=patient_id, value=paid)
    last = patient_event(str(uuid.uuid4()), "PATIENT_CREATED")
    await producer.send(topic, key=last.patientId, value=last)

    await analytics.wait_for_processed(3)

    async def duplicates_seen() -> bool:
        samples = await metric_samples(analytics, "analytics_events_processed_total")
        outcome_duplicate = [v for labels, v in samples.items() if labels[0] == "duplicate"]
        return sum(outcome_duplicate) == 2

    await eventually(duplicates_seen, 30.0)
    summary = await analytics.summary()
    assert summary["patients"] == {"active": 2, "created": 2, "updated": 0, "deleted": 0}
    assert summary["billing"]["invoicesPaid"] == 1
    assert summary["billing"]["amounts"][0]["paidMinor"] == 700
    assert await event_keys(analytics) == {created.event_id, paid.event_id, last.event_id}


async def test_an_original_event_without_an_id_is_accepted_and_keyed_by_its_offset(
    analytics: Analytics, producer: EventProducer
) -> None:
    topic = analytics.topics.patient
    patient_id = str(uuid.uuid4())
    await producer.send(
        topic, key=patient_id, value=original_patient_event(patient_id, "PATIENT_CREATED")
    )
    await producer.send(
        topic, key=patient_id, value=original_patient_event(patient_id, "PATIENT_UPDATED")
    )

    await analytics.wait_for_processed(2)

    assert await event_keys(analytics) == {f"{topic}/0/0", f"{topic}/0/1"}
    assert (await analytics.summary())["patients"] == {
        "active": 1,
        "created": 1,
        "updated": 1,
        "deleted": 0,
    }
    demographics = await analytics.get("/analytics/demographics")
    assert (demographics["activePatients"], demographics["unknownAge"]) == (1, 1)


async def test_poison_messages_go_to_the_dead_letter_topic_with_the_error_and_it_carries_on(
    analytics: Analytics, producer: EventProducer, kafka_bootstrap_servers: str
) -> None:
    topics = analytics.topics
    patient_id = str(uuid.uuid4())
    garbage = b"\xff\xff\xff not protobuf"
    not_a_uuid = patient_event("Jane Roe", "PATIENT_CREATED")
    bad_currency = billing_event("INVOICE_ISSUED", amount_minor=5, currency="pounds")
    await producer.send(
        topics.patient, key=patient_id, value=garbage, headers={"x-request-id": "r-1"}
    )
    await producer.send(topics.patient, key=patient_id, value=not_a_uuid)
    await producer.send(topics.billing, key=patient_id, value=bad_currency)
    valid = patient_event(patient_id, "PATIENT_CREATED")
    await producer.send(topics.patient, key=patient_id, value=valid)

    await analytics.wait_for_processed(1)
    patient_letters = await read_topic(kafka_bootstrap_servers, topics.patient_dead_letters, 2)
    billing_letters = await read_topic(kafka_bootstrap_servers, topics.billing_dead_letters, 1)

    assert [letter.value for letter in patient_letters] == [garbage, not_a_uuid.SerializeToString()]
    assert [letter.headers["dlt-error-type"] for letter in patient_letters] == [
        "DecodeError",
        "InvalidEventError",
    ]
    assert "Error parsing message" in patient_letters[0].headers["dlt-error"]
    assert patient_letters[0].headers["x-request-id"] == "r-1"
    assert patient_letters[1].headers["dlt-error"] == "patientId is not a UUID"
    assert [letter.headers["dlt-original-offset"] for letter in patient_letters] == ["0", "1"]
    assert billing_letters[0].value == bad_currency.SerializeToString()
    assert billing_letters[0].headers["dlt-error"] == "currency is not an ISO 4217 code"
    assert billing_letters[0].headers["dlt-original-topic"] == topics.billing
    assert billing_letters[0].key == patient_id.encode()
    assert (await analytics.summary())["patients"]["created"] == 1
    assert await metric_samples(analytics, "analytics_events_failed_total") == {
        ("DecodeError", topics.patient): 1.0,
        ("InvalidEventError", topics.patient): 1.0,
        ("InvalidEventError", topics.billing): 1.0,
    }


async def test_metrics_export_events_processed_and_the_lag_of_each_partition(
    analytics: Analytics, producer: EventProducer
) -> None:
    topics = analytics.topics
    for _ in range(3):
        event = patient_event(str(uuid.uuid4()), "PATIENT_CREATED")
        await producer.send(topics.patient, key=event.patientId, value=event)
    account = billing_event("ACCOUNT_CREATED")
    await producer.send(topics.billing, key=account.patient_id, value=account)
    await analytics.wait_for_processed(4)

    async def caught_up() -> bool:
        lag = await metric_samples(analytics, "analytics_consumer_lag")
        return lag == {("0", topics.billing): 0.0, ("0", topics.patient): 0.0}

    await eventually(caught_up, 30.0)
    processed = await metric_samples(analytics, "analytics_events_processed_total")
    assert processed == {("applied", topics.patient): 3.0, ("applied", topics.billing): 1.0}


async def test_the_lag_is_the_high_water_mark_minus_the_position(
    kafka_topic_factory: TopicFactory, kafka_bootstrap_servers: str, producer: EventProducer
) -> None:
    topic = await kafka_topic_factory()
    for number in range(10):
        await producer.send(topic, key="k", value=str(number).encode())
    consumer = EventConsumer(
        kafka_bootstrap_servers, [topic], group_id=f"lag-{uuid.uuid4().hex}", max_poll_records=3
    )
    async with consumer, asyncio.timeout(30):
        async for batch in consumer.batches():
            if batch:
                break
        assert await consumer.lag() == {(topic, 0): 10 - len(batch)}
        assert await consumer.positions() == {(topic, 0): len(batch)}
