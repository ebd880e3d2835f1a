"""The ``patient`` topic, consumed by the running service: updates and deletions applied
once, original-format events keyed by their offset, poison messages dead-lettered."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest
from sqlalchemy import select

from pms_billing.events import OutboxBillingEvents
from pms_billing.handlers import PatientEventHandler
from pms_billing.models import Account, processed_events
from pms_billing.service import BillingService
from pms_contracts.billing_service_pb2 import (
    BillingRequest,
    CreateInvoiceRequest,
    PayInvoiceRequest,
)
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import EventOutcome
from pms_platform.kafka import EventConsumer, EventProducer
from pms_testing.kafka import TopicFactory, read_topic
from pms_testing.metrics import metric_value
from pms_testing.polling import eventually

from .conftest import Billing, BillingFactory

pytestmark = pytest.mark.integration


@pytest.fixture
async def topics(kafka_topic_factory: TopicFactory) -> dict[str, str]:
    """Private topics (one partition: the tests reason about offsets)."""
    return {
        "patient_topic": await kafka_topic_factory(),
        "patient_dead_letter_topic": await kafka_topic_factory(),
        "billing_topic": await kafka_topic_factory(),
        "consumer_group": f"billing-test-{uuid.uuid4().hex}",
    }


@pytest.fixture
async def consuming(
    billing_factory: BillingFactory, topics: dict[str, str]
) -> AsyncIterator[Billing]:
    """The service with its consumer and relay running on the private topics."""
    async with billing_factory(
        background_workers=True, outbox_poll_interval_seconds=0.2, **topics
    ) as billing:
        yield billing


@pytest.fixture
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[EventProducer]:
    async with EventProducer(kafka_bootstrap_servers) as producer:
        yield producer


async def open_account(billing: Billing) -> str:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="Jane Roe", email="jane@example.com"), timeout=5
    )
    return patient_id


def patient_event(
    patient_id: str, event_type: str, event_id: str = "", name: str = "Jane Roe"
) -> PatientEvent:
    return PatientEvent(
        patientId=patient_id,
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        event_type=event_type,
        event_id=event_id,
    )


def processed(billing: Billing, key: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with billing.database.transaction() as session:
            found = await session.execute(
                select(processed_events.c.event_key).where(processed_events.c.event_key == key)
            )
            return found.first() is not None

    return check


async def account_of(billing: Billing, patient_id: str) -> Account:
    async with billing.database.transaction() as session:
        statement = select(Account).where(Account.patient_id == uuid.UUID(patient_id))
        return (await session.scalars(statement)).one()


async def processed_keys(billing: Billing) -> set[str]:
    async with billing.database.transaction() as session:
        return set((await session.scalars(select(processed_events.c.event_key))).all())


async def test_updates_and_deletions_are_applied_once_even_when_delivered_twice(
    consuming: Billing, producer: EventProducer, topics: dict[str, str]
) -> None:
    patient_id = await open_account(consuming)
    invoice = await consuming.stub.CreateInvoice(
        CreateInvoiceRequest(patient_id=patient_id, amount_minor=700, currency="GBP"), timeout=5
    )
    first, second, deletion, last = (str(uuid.uuid4()) for _ in range(4))
    deliveries = [
        patient_event(patient_id, "PATIENT_UPDATED", first, name="Ann First"),
        patient_event(patient_id, "PATIENT_UPDATED", first, name="Ann First"),
        patient_event(patient_id, "PATIENT_UPDATED", second, name="Bea Second"),
        # A late redelivery of the first update must not undo the second.
        patient_event(patient_id, "PATIENT_UPDATED", first, name="Ann First"),
        patient_event(patient_id, "PATIENT_DELETED", deletion),
        patient_event(patient_id, "PATIENT_DELETED", deletion),
        patient_event(str(uuid.uuid4()), "PATIENT_UPDATED", last),  # no account: ignored
    ]
    for event in deliveries:
        await producer.send(topics["patient_topic"], key=event.patientId, value=event)

    await eventually(processed(consuming, last))

    account = await account_of(consuming, patient_id)
    assert (account.name, account.email) == ("Bea Second", "bea@example.com")
    assert account.status == "CLOSED"
    assert account.closed_at is not None
    assert await processed_keys(consuming) == {first, second, deletion, last}
    assert await consuming.outbox_types() == ["ACCOUNT_CREATED", "INVOICE_ISSUED", "ACCOUNT_CLOSED"]
    # A closed account takes no new invoices; its open invoice stays payable.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await consuming.stub.CreateInvoice(
            CreateInvoiceRequest(patient_id=patient_id, amount_minor=1, currency="GBP"), timeout=5
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    paid = await consuming.stub.PayInvoice(
        PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="after-close"), timeout=5
    )
    assert paid.status == "PAID"


async def test_original_events_without_an_id_are_keyed_by_offset_and_skipped_on_replay(
    consuming: Billing,
    producer: EventProducer,
    topics: dict[str, str],
    kafka_bootstrap_servers: str,
) -> None:
    patient_id = await open_account(consuming)
    topic = topics["patient_topic"]
    original = patient_event(patient_id, "PATIENT_UPDATED", name="Old Name")  # fields 1-4 only
    newer_id = str(uuid.uuid4())
    await producer.send(topic, key=patient_id, value=original)
    await producer.send(
        topic,
        key=patient_id,
        value=patient_event(patient_id, "PATIENT_UPDATED", newer_id, "New Name"),
    )
    await eventually(processed(consuming, newer_id))
    assert f"{topic}/0/0" in await processed_keys(consuming)

    # Another consumer group reads the topic again from the start, as after a reset:
    # both events are recognised, so the old name does not come back.
    replay = IdempotentConsumer[PatientEvent](
        consuming.database,
        processed_events,
        PatientEventHandler(BillingService(OutboxBillingEvents(topics["billing_topic"]))),
        bootstrap_servers=kafka_bootstrap_servers,
        topics=[topic],
        group_id=f"replay-{uuid.uuid4().hex}",
    )
    replayed: list[EventOutcome] = []
    consumer = EventConsumer(kafka_bootstrap_servers, [topic], group_id=f"r-{uuid.uuid4().hex}")
    async with consumer:
        async with asyncio.timeout(20):
            async for batch in consumer.batches():
                for event in batch:
                    replayed.append(await replay.process(event))
                if len(replayed) == 2:
                    break
    await replay.stop()

    assert replayed == [EventOutcome.DUPLICATE, EventOutcome.DUPLICATE]
    assert (await account_of(consuming, patient_id)).name == "New Name"


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_carries_on(
    consuming: Billing,
    producer: EventProducer,
    topics: dict[str, str],
    kafka_bootstrap_servers: str,
) -> None:
    patient_id = await open_account(consuming)
    topic = topics["patient_topic"]
    garbage = b"\xff\xff\xff not protobuf"
    invalid = patient_event("not-a-uuid", "PATIENT_UPDATED", str(uuid.uuid4()))
    valid_id = str(uuid.uuid4())
    await producer.send(topic, key=patient_id, value=garbage, headers={"x-request-id": "r-1"})
    await producer.send(topic, key=patient_id, value=invalid)
    await producer.send(
        topic,
        key=patient_id,
        value=patient_event(patient_id, "PATIENT_UPDATED", valid_id, "Val Id"),
    )

    await eventually(processed(consuming, valid_id))
    dead = await read_topic(kafka_bootstrap_servers, topics["patient_dead_letter_topic"], count=2)

    assert (await account_of(consuming, patient_id)).name == "Val Id"
    assert [letter.value for letter in dead] == [garbage, invalid.SerializeToString()]
    for offset, letter in enumerate(dead):
        assert letter.key == patient_id.encode()
        assert letter.headers["dlt-original-topic"] == topic
        assert letter.headers["dlt-original-partition"] == "0"
        assert letter.headers["dlt-original-offset"] == str(offset)
        assert letter.headers["dlt-consumer-group"] == topics["consumer_group"]
    assert "Error parsing message" in dead[0].headers["dlt-error"]
    assert dead[0].headers["dlt-error-type"] == "DecodeError"
    assert dead[0].headers["x-request-id"] == "r-1"
    assert dead[1].headers["dlt-error"] == "PATIENT_UPDATED with invalid fields: patientId"
    assert dead[1].headers["dlt-error-type"] == "PoisonEventError"


async def test_a_creation_is_acknowledged_without_a_transaction_or_a_processed_key(
    consuming: Billing, producer: EventProducer, topics: dict[str, str]
) -> None:
    """The account of a new patient comes from the gRPC call: billing has nothing to
    write for ``PATIENT_CREATED``, not even the key that would guard against a replay."""
    patient_id = await open_account(consuming)
    created, updated = str(uuid.uuid4()), str(uuid.uuid4())
    for event in (
        patient_event(patient_id, "PATIENT_CREATED", created),
        patient_event(patient_id, "PATIENT_UPDATED", updated, name="Cy Later"),
    ):
        await producer.send(topics["patient_topic"], key=patient_id, value=event)

    await eventually(processed(consuming, updated))

    assert await processed_keys(consuming) == {updated}
    text = (await consuming.http.get("/metrics")).text
    topic = topics["patient_topic"]
    assert metric_value(text, "billing_events_processed_total", outcome="ignored") == 1
    assert metric_value(text, "billing_events_processed_total", topic=topic, outcome="applied") == 1


async def test_the_consumer_exports_its_outcomes_dead_letters_and_lag_on_metrics(
    consuming: Billing, producer: EventProducer, topics: dict[str, str]
) -> None:
    patient_id = await open_account(consuming)
    topic = topics["patient_topic"]
    update = patient_event(patient_id, "PATIENT_UPDATED", str(uuid.uuid4()), "Met Rics")
    await producer.send(topic, key=patient_id, value=update)
    await producer.send(topic, key=patient_id, value=update)  # a redelivery
    await producer.send(topic, key=patient_id, value=b"\xff\xff not protobuf")

    async def counted() -> bool:
        text = (await consuming.http.get("/metrics")).text
        dead = metric_value(text, "billing_events_processed_total", outcome="dead_lettered")
        lag = f'billing_consumer_lag{{partition="0",topic="{topic}"}} 0.0' in text
        return dead == 1 and lag

    await eventually(counted)
    text = (await consuming.http.get("/metrics")).text
    for outcome in ("applied", "duplicate", "dead_lettered"):
        assert metric_value(text, "billing_events_processed_total", outcome=outcome) == 1
    failed = metric_value(
        text, "billing_events_failed_total", topic=topic, error_type="DecodeError"
    )
    assert failed == 1
