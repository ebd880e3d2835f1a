"""Billing's events: the ``BillingEvent``s it publishes (through the outbox) and the
handler of the ``patient`` events it consumes."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import Account, Invoice, outbox_events
from pms_billing.schemas import NewAccount, PatientRef, validated
from pms_billing.service import BillingEventType, BillingService
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_platform.errors import BadRequestError
from pms_platform.event_consumer import PoisonEventError
from pms_platform.kafka import ConsumedEvent
from pms_platform.logging import get_logger
from pms_platform.outbox import enqueue

PATIENT_UPDATED = "PATIENT_UPDATED"
PATIENT_DELETED = "PATIENT_DELETED"
_log = get_logger("pms.billing.events")


def build_billing_event(
    event_type: BillingEventType,
    account: Account,
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
        event_id = uuid.uuid4()
        event = build_billing_event(
            event_type, account, invoice, event_id=event_id, occurred_at=datetime.now(UTC)
        )
        await enqueue(
            session,
            outbox_events,
            topic=self.topic,
            key=str(account.patient_id),
            value=event,
            headers={"event_id": str(event_id), "event_type": event_type.value},
        )


class PatientEventHandler:
    """``PATIENT_UPDATED`` follows the patient's name and email; ``PATIENT_DELETED``
    closes their account; other types (``PATIENT_CREATED``: the account comes from the
    gRPC call) are acknowledged and ignored."""

    def __init__(self, service: BillingService) -> None:
        self._service = service

    def decode(self, event: ConsumedEvent) -> PatientEvent:
        return event.decode(PatientEvent())

    def event_id(self, message: PatientEvent) -> str | None:
        return message.event_id or None

    async def handle(
        self, session: AsyncSession, message: PatientEvent, event: ConsumedEvent
    ) -> None:
        try:
            if message.event_type == PATIENT_UPDATED:
                contact = validated(
                    NewAccount,
                    {"patientId": message.patientId, "name": message.name, "email": message.email},
                )
                found = await self._service.update_contact(
                    session, contact.patient_id, name=contact.name, email=contact.email
                )
                _log.info("patient contact applied", account_found=found, offset=event.offset)
            elif message.event_type == PATIENT_DELETED:
                patient = validated(PatientRef, {"patientId": message.patientId})
                closed = await self._service.close_account(session, patient.patient_id)
                _log.info("patient deletion applied", account_closed=closed, offset=event.offset)
        except BadRequestError as error:
            # Field names only: the values are patient details.
            fields = ", ".join(sorted(error.errors or {}))
            raise PoisonEventError(f"{message.event_type} with invalid fields: {fields}") from None
