"""Billing's outbound events: ``build_billing_event`` (the ``BillingEvent`` of a change)
and ``OutboxBillingEvents``, which records it in the outbox in the transaction of the
change (the platform's relay publishes it to the ``billing`` topic after the commit).
The inbound ``patient`` events are in ``handlers.py``."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import Account, Invoice, outbox_events
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.vocabulary import BillingEventType
from pms_platform.outbox import OutboxEntry, enqueue_entry


class AccountIds(Protocol):
    """What an event needs of an account (a stored one, or one about to be)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def patient_id(self) -> uuid.UUID: ...


def build_billing_event(
    event_type: BillingEventType,
    account: AccountIds,
    invoice: Invoice | None,
    *,
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> BillingEvent:
    occurred = Timestamp()
    occurred.FromDatetime(occurred_at)
    event = BillingEvent(
        event_id=str(event_id),
        event_type=event_type.value,
        occurred_at=occurred,
        account_id=str(account.id),
        patient_id=str(account.patient_id),
    )
    if invoice is not None:
        event.invoice_id = str(invoice.id)
        event.amount_minor = invoice.amount_minor
        event.currency = invoice.currency
    return event


@dataclass(frozen=True)
class NewAccountIds:
    id: uuid.UUID
    patient_id: uuid.UUID


class OutboxBillingEvents:
    """Writes billing events to the outbox, keyed by patient id (one patient's events
    stay in order on one partition)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    async def record(
        self,
        session: AsyncSession,
        event_type: BillingEventType,
        account: Account,
        invoice: Invoice | None = None,
    ) -> None:
        await enqueue_entry(session, outbox_events, self.entry(event_type, account, invoice))

    def entry(
        self, event_type: BillingEventType, account: AccountIds, invoice: Invoice | None = None
    ) -> OutboxEntry:
        """The outbox row of the event, for a statement that writes it itself."""
        event_id = uuid.uuid4()
        event = build_billing_event(
            event_type, account, invoice, event_id=event_id, occurred_at=datetime.now(UTC)
        )
        return OutboxEntry.of_event(
            topic=self.topic,
            key=str(account.patient_id),
            value=event,
            event_id=str(event_id),
            event_type=event_type.value,
        )
