"""The wire vocabulary that is not in the ``.proto`` files: event type names and the
Kafka header names. Hand-written (unlike the ``*_pb2`` modules beside it) and the only
place these strings are spelled: every producer and consumer imports them from here.

The event type names are frozen by the original system (``PATIENT_CREATED``...); the
header names are the ones our events have carried since the first release, so that
records already in a topic keep decoding the same way.
"""

from enum import StrEnum


class PatientEventType(StrEnum):
    """``PatientEvent.event_type`` on the ``patient`` topic."""

    CREATED = "PATIENT_CREATED"
    UPDATED = "PATIENT_UPDATED"
    DELETED = "PATIENT_DELETED"


class BillingEventType(StrEnum):
    """``BillingEvent.event_type`` on the ``billing`` topic."""

    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    INVOICE_ISSUED = "INVOICE_ISSUED"
    INVOICE_PAID = "INVOICE_PAID"
    INVOICE_VOIDED = "INVOICE_VOIDED"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"


class EventHeader(StrEnum):
    """Kafka record headers set by our producers (the outbox adds the last two)."""

    EVENT_ID = "event_id"
    EVENT_TYPE = "event_type"
    REQUEST_ID = "x-request-id"
    TRACEPARENT = "traceparent"


class DeadLetterHeader(StrEnum):
    """Headers a consumer adds to a record it sends to a dead-letter topic."""

    ERROR = "dlt-error"
    ERROR_TYPE = "dlt-error-type"
    ORIGINAL_TOPIC = "dlt-original-topic"
    ORIGINAL_PARTITION = "dlt-original-partition"
    ORIGINAL_OFFSET = "dlt-original-offset"
    CONSUMER_GROUP = "dlt-consumer-group"
