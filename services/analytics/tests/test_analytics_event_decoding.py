"""Records decoded into changes: valid ones, the original's format, and the invalid
ones that go to the dead-letter topic with a message naming the field only."""

import uuid
from datetime import UTC, date, datetime

import pytest
from google.protobuf.message import DecodeError

from pms_analytics.aggregates import BillingChange
from pms_analytics.handlers import AnalyticsEventHandler, InvalidEventError
from pms_analytics.service import AnalyticsService
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_contracts.vocabulary import BillingEventType, PatientEventType
from pms_platform.kafka import ConsumedEvent

from .conftest import at, billing_event, original_patient_event, patient_event

HANDLER = AnalyticsEventHandler(AnalyticsService(), "patient", "billing")
RECORD_TIME_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def record(topic: str, value: bytes) -> ConsumedEvent:
    return ConsumedEvent(topic, 0, 7, None, value, {}, RECORD_TIME_MS)


def test_a_patient_event_becomes_a_change_without_personal_details() -> None:
    patient_id = str(uuid.uuid4())
    event = patient_event(
        patient_id,
        "PATIENT_CREATED",
        occurred=at("2026-02-03"),
        born=date(1980, 1, 2),
        registered=date(2026, 2, 1),
        event_id="e-1",
    )
    change = HANDLER.decode(record("patient", event.SerializeToString()))

    assert change.__dict__ == {
        "event_id": "e-1",
        "patient_id": uuid.UUID(patient_id),
        "event_type": PatientEventType.CREATED,
        "occurred_at": at("2026-02-03"),
        "date_of_birth": date(1980, 1, 2),
        "registered_date": date(2026, 2, 1),
    }
    assert HANDLER.event_id(change) == "e-1"


def test_an_original_event_has_no_id_and_takes_the_record_time() -> None:
    event = original_patient_event(str(uuid.uuid4()), "PATIENT_UPDATED")
    change = HANDLER.decode(record("patient", event.SerializeToString()))

    assert HANDLER.event_id(change) is None
    assert change.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_invoice_event_carries_its_currency_and_amount() -> None:
    event = billing_event("INVOICE_ISSUED", amount_minor=999, currency="EUR", event_id="b-1")
    change = HANDLER.decode(record("billing", event.SerializeToString()))

    assert isinstance(change, BillingChange)
    assert (change.event_type, change.currency, change.amount_minor) == (
        BillingEventType.INVOICE_ISSUED,
        "EUR",
        999,
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            PatientEvent(patientId=str(uuid.uuid4()), event_type="PATIENT_MERGED"),
            "event_type is not a patient event type",
        ),
        (
            PatientEvent(patientId="Jane Roe", event_type="PATIENT_CREATED"),
            "patientId is not a UUID",
        ),
        (
            PatientEvent(
                patientId=str(uuid.uuid4()),
                event_type="PATIENT_CREATED",
                date_of_birth="01/02/1980",
            ),
            "date_of_birth is not a date in the form YYYY-MM-DD",
        ),
        (
            PatientEvent(
                patientId=str(uuid.uuid4()),
                event_type="PATIENT_CREATED",
                registered_date="2026-02-30",
            ),
            "registered_date is not a date in the form YYYY-MM-DD",
        ),
    ],
)
def test_an_invalid_patient_event_is_refused_naming_the_field_only(
    event: PatientEvent, message: str
) -> None:
    with pytest.raises(InvalidEventError) as raised:
        HANDLER.decode(record("patient", event.SerializeToString()))
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (BillingEvent(event_type="INVOICE_REFUNDED"), "event_type is not a billing event type"),
        (
            BillingEvent(event_type="INVOICE_PAID", amount_minor=5, currency="pounds"),
            "currency is not an ISO 4217 code",
        ),
        (
            BillingEvent(event_type="INVOICE_ISSUED", amount_minor=-5, currency="GBP"),
            "amount_minor is negative",
        ),
    ],
)
def test_an_invalid_billing_event_is_refused(event: BillingEvent, message: str) -> None:
    with pytest.raises(InvalidEventError) as raised:
        HANDLER.decode(record("billing", event.SerializeToString()))
    assert str(raised.value) == message


def test_bytes_that_are_not_protobuf_cannot_be_decoded() -> None:
    with pytest.raises(DecodeError):
        HANDLER.decode(record("patient", b"\xff\xff\xff not protobuf"))
