"""The patients service's outbound events: :func:`build_patient_event` makes the
``PatientEvent`` of a change, and :class:`OutboxPatientEvents` makes its outbox row, which
the statement of that change writes (the platform's relay publishes it after the commit).
Event type and header names come from :mod:`pms_contracts.vocabulary`."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from pms_contracts.patient_event_pb2 import PatientEvent
from pms_contracts.vocabulary import PatientEventType
from pms_patients.models import Patient
from pms_platform.outbox import OutboxEntry


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


class OutboxPatientEvents:
    """Writes patient events to the outbox of the ``patient`` topic, keyed by patient id
    (one patient's events stay in order on one partition)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def entry(self, patient: Patient, event_type: PatientEventType) -> OutboxEntry:
        """The outbox row of the event, for a statement that writes it itself (the
        request id and the caller's trace context added)."""
        event_id = uuid.uuid4()
        event = build_patient_event(patient, event_type, event_id, datetime.now(UTC))
        return OutboxEntry.of_event(
            topic=self.topic,
            key=str(patient.id),
            value=event,
            event_id=str(event_id),
            event_type=event_type.value,
        )
