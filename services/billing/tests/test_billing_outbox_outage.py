"""Billing events during a Kafka outage: delayed, never lost, published once each and in
order per patient once the broker is reachable again.

The shared broker must keep running for everyone else, so the outage is the service
pointed at an address where no broker listens, the way a service sees a broker it
cannot reach; then a relay pointed at the real broker takes over the same database."""

import uuid

import pytest
from sqlalchemy import select

from pms_billing.models import outbox_events
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.billing_service_pb2 import (
    BillingRequest,
    CreateInvoiceRequest,
    PayInvoiceRequest,
    VoidInvoiceRequest,
)
from pms_platform.db import Database
from pms_platform.outbox_relay import OutboxRelay
from pms_testing.kafka import TopicFactory, read_whole_topic
from pms_testing.polling import eventually

from .conftest import Billing, BillingFactory

pytestmark = pytest.mark.integration

UNREACHABLE_BROKER = "127.0.0.1:1"


async def make_changes(billing: Billing) -> None:
    """Three patients, each with an account and invoices issued, paid and voided."""
    for _ in range(3):
        patient_id = str(uuid.uuid4())
        await billing.stub.CreateBillingAccount(
            BillingRequest(patientId=patient_id, name="Jo Doe", email="jo@example.com"), timeout=5
        )
        for amount in (100, 200):
            invoice = await billing.stub.CreateInvoice(
                CreateInvoiceRequest(patient_id=patient_id, amount_minor=amount, currency="CHF"),
                timeout=5,
            )
            if amount == 100:
                await billing.stub.PayInvoice(
                    PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key=patient_id),
                    timeout=5,
                )
            else:
                await billing.stub.VoidInvoice(
                    VoidInvoiceRequest(invoice_id=invoice.invoice_id), timeout=5
                )


async def outbox(database: Database) -> list[tuple[str, str, bool, int]]:
    """``(event id, key, sent, attempts)`` of every outbox row, in id order."""
    async with database.transaction() as session:
        rows = await session.execute(
            select(
                outbox_events.c.headers,
                outbox_events.c.key,
                outbox_events.c.sent_at,
                outbox_events.c.attempts,
            ).order_by(outbox_events.c.id)
        )
        return [(h["event_id"], key, sent is not None, tries) for h, key, sent, tries in rows]


async def test_events_committed_while_the_broker_is_unreachable_arrive_once_each_in_order(
    billing_factory: BillingFactory,
    kafka_topic_factory: TopicFactory,
    kafka_bootstrap_servers: str,
) -> None:
    topic = await kafka_topic_factory(partitions=3)
    async with billing_factory(
        background_workers=True,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        billing_topic=topic,
        patient_topic=f"unused-{uuid.uuid4().hex}",
        outbox_poll_interval_seconds=0.1,
    ) as billing:
        await make_changes(billing)

        service_relay: OutboxRelay = billing.app.state.outbox_relay

        async def relay_tried_and_failed() -> bool:
            return service_relay.consecutive_failures >= 2

        await eventually(relay_tried_and_failed)
        during_outage = await outbox(billing.database)
        ready = await billing.http.get("/health/ready")
        database_url = billing.settings.database_url

        # Nothing was published and nothing was lost: 3 accounts x (created, 2 issued,
        # paid, voided) = 15 events, all waiting.
        assert len(during_outage) == 15
        assert not any(sent for _, _, sent, _ in during_outage)
        assert ready.status_code == 503

        database = Database(database_url)
        relay = OutboxRelay(
            database,
            outbox_events,
            bootstrap_servers=kafka_bootstrap_servers,
            poll_interval_seconds=0.1,
        )
        await relay.start()
        try:

            async def all_sent() -> bool:
                return all(sent for _, _, sent, _ in await outbox(database))

            await eventually(all_sent)
            published = await read_whole_topic(kafka_bootstrap_servers, topic, expected=15)
        finally:
            await relay.stop()
            await database.dispose()

    ids = [event_id for event_id, *_ in during_outage]
    received = [(e, BillingEvent.FromString(e.value)) for e in published]
    assert sorted(event.event_id for _, event in received) == sorted(ids)  # each exactly once
    for key in {key for _, key, _, _ in during_outage}:
        in_outbox = [event_id for event_id, k, _, _ in during_outage if k == key]
        on_topic = [event.event_id for record, event in received if record.key == key.encode()]
        assert on_topic == in_outbox  # one patient's events in the order of their changes
    types = [
        event.event_type for _, event in received if event.patient_id == received[0][1].patient_id
    ]
    assert types == [
        "ACCOUNT_CREATED",
        "INVOICE_ISSUED",
        "INVOICE_PAID",
        "INVOICE_ISSUED",
        "INVOICE_VOIDED",
    ]
    record, event = received[0]
    assert record.headers["event_id"] == event.event_id
    assert record.headers["event_type"] == event.event_type
