"""The ``patient`` topic's events, written to the outbox in the transaction of the change."""

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.patient_event_pb2 import PatientEvent
from pms_patients.models import Patient, outbox_events
from pms_platform.outbox import enqueue


class PatientEventType(StrEnum):
    CREATED = "PATIENT_CREATED"
    UPDATED = "PATIENT_UPDATED"
    DELETED = "PATIENT_DELETED"


def build_patient_event(
    patient: Patient, event_type: PatientEventType, event_id: uuid.UUID, occurred_at: datetime
) -> PatientEvent:
    occurred = Timestamp()
    occurred.FromDatetime(occurred_at)
    return PatientEvent(
        patientId=str(patient.id),
        name=patient.name,
        email=patient.email,
        event_type=event_type.value,
        event_id=str(event_id),
        occurred_at=occurred,
        address=patient.address,
        date_of_birth=patient.date_of_birth.isoformat(),
        registered_date=patient.registered_date.isoformat(),
    )


async def record_patient_event(
    session: AsyncSession, topic: str, patient: Patient, event_type: PatientEventType
) -> None:
    """Queue the event in this transaction; the relay publishes it after the commit."""
    event_id = uuid.uuid4()
    event = build_patient_event(patient, event_type, event_id, datetime.now(UTC))
    # The outbox adds the request id and the caller's trace context.
    headers = {"event_id": str(event_id), "event_type": event_type.value}
    await enqueue(
        session,
        outbox_events,
        topic=topic,
        key=str(patient.id),
        value=event.SerializeToString(),
        headers=headers,
    )
