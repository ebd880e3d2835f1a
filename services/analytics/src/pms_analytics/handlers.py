"""Analytics' inbound events: ``AnalyticsEventHandler`` decodes the ``patient`` and
``billing`` records into changes that carry no personal details and gives them to the
service; ``analytics_consumer`` is the platform's idempotent consumer that runs it on
both topics (one transaction per polled batch), shared by the app, the rebuild and the tests.
Given a registry, the consumer exports ``analytics_events_processed_total{topic,outcome}``,
``analytics_events_failed_total{topic,error_type}`` and
``analytics_consumer_lag{topic,partition}``. Analytics publishes no events (there is no
``events.py``).

A record that cannot be parsed, or whose fields make no sense (an unknown type, a
patient id that is not a UUID, a malformed date, an invoice without a currency...),
raises from :meth:`AnalyticsEventHandler.decode`, and the platform's consumer sends it
to the dead-letter topic with the error in a header. Error messages name fields only,
never their values (they may be patient details).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg
from prometheus_client import CollectorRegistry

from pms_analytics.aggregates import AnalyticsChange, BillingChange, PatientChange
from pms_analytics.models import processed_events
from pms_analytics.service import AnalyticsService
from pms_analytics.settings import AnalyticsSettings
from pms_contracts.billing_event_pb2 import BillingEvent
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_contracts.vocabulary import BillingEventType, PatientEventType
from pms_platform.db import Database
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import DeadLetterFilter
from pms_platform.kafka import ConsumedEvent
from pms_platform.validation import ISO_DATE_PATTERN, is_currency_code, parse_iso_date
from pms_platform.workers import consumer_worker

_INVOICE_EVENTS = frozenset(
    {
        BillingEventType.INVOICE_ISSUED,
        BillingEventType.INVOICE_PAID,
        BillingEventType.INVOICE_VOIDED,
    }
)


class InvalidEventError(ValueError):
    """The record parsed but cannot be applied; dead-lettered with this message."""


def event_time(occurred_at: datetime | None, event: ConsumedEvent) -> datetime:
    """When it happened: the producer's ``occurred_at``, else the record's timestamp
    (events of the original producer carry no time of their own)."""
    if occurred_at is not None:
        return occurred_at
    if event.timestamp_ms > 0:
        return datetime.fromtimestamp(event.timestamp_ms / 1000, tz=UTC)
    return datetime.now(UTC)


def _optional_date(value: str, field: str) -> date | None:
    """``YYYY-MM-DD`` exactly as sent (no spaces around it), or empty: unknown."""
    if not value:
        return None
    if ISO_DATE_PATTERN.fullmatch(value):
        try:
            return parse_iso_date(value)
        except ValueError:
            pass
    raise InvalidEventError(f"{field} is not a date in the form YYYY-MM-DD")


def patient_change(message: PatientEvent, event: ConsumedEvent) -> PatientChange:
    try:
        event_type = PatientEventType(message.event_type)
    except ValueError:
        raise InvalidEventError("event_type is not a patient event type") from None
    try:
        patient_id = uuid.UUID(message.patientId)
    except ValueError:
        raise InvalidEventError("patientId is not a UUID") from None
    occurred = message.occurred_at.ToDatetime(UTC) if message.HasField("occurred_at") else None
    return PatientChange(
        event_id=message.event_id or None,
        patient_id=patient_id,
        event_type=event_type,
        occurred_at=event_time(occurred, event),
        date_of_birth=_optional_date(message.date_of_birth, "date_of_birth"),
        registered_date=_optional_date(message.registered_date, "registered_date"),
    )


def billing_change(message: BillingEvent, event: ConsumedEvent) -> BillingChange:
    try:
        event_type = BillingEventType(message.event_type)
    except ValueError:
        raise InvalidEventError("event_type is not a billing event type") from None
    occurred = message.occurred_at.ToDatetime(UTC) if message.HasField("occurred_at") else None
    if event_type not in _INVOICE_EVENTS:
        return BillingChange(message.event_id or None, event_type, event_time(occurred, event))
    if not is_currency_code(message.currency):
        raise InvalidEventError("currency is not an ISO 4217 code")
    if message.amount_minor < 0:
        raise InvalidEventError("amount_minor is negative")
    return BillingChange(
        message.event_id or None,
        event_type,
        event_time(occurred, event),
        currency=message.currency,
        amount_minor=message.amount_minor,
    )


class AnalyticsEventHandler:
    """One handler for both topics (the record's topic says which message it holds):
    every valid change goes to :meth:`AnalyticsService.apply_changes`, alone or with the
    rest of its batch, on a plain connection (no ORM session on the consumer's path)."""

    def __init__(self, service: AnalyticsService, patient_topic: str, billing_topic: str) -> None:
        self._service = service
        self._patient_topic = patient_topic
        self._billing_topic = billing_topic

    def decode(self, event: ConsumedEvent) -> AnalyticsChange:
        if event.topic == self._patient_topic:
            return patient_change(event.decode(PatientEvent()), event)
        if event.topic == self._billing_topic:
            return billing_change(event.decode(BillingEvent()), event)
        raise InvalidEventError(f"no handler for topic {event.topic}")

    def event_id(self, message: AnalyticsChange) -> str | None:
        return message.event_id

    async def apply_on(
        self,
        connection: asyncpg.Connection,
        items: Sequence[tuple[AnalyticsChange, ConsumedEvent]],
    ) -> None:
        """One event, or a batch's new events at once, on the consumer's plain connection
        (a :class:`~pms_platform.event_handlers.PlainEventHandler`)."""
        await self._service.apply_changes(connection, [change for change, _ in items])


METRICS_PREFIX = "analytics"
"""What the consumer's metric names start with."""


def analytics_consumer(
    database: Database,
    settings: AnalyticsSettings,
    *,
    service: AnalyticsService,
    metrics_registry: CollectorRegistry | None = None,
    group_id: str | None = None,
    should_dead_letter: DeadLetterFilter | None = None,
) -> IdempotentConsumer[AnalyticsChange]:
    """Applies both topics' events to the aggregates with ``service``, each once, in consumer group
    ``group_id`` (the settings' group unless given); its metrics go to
    ``metrics_registry`` (the app's), if given."""
    return consumer_worker(
        settings,
        database,
        processed_events,
        AnalyticsEventHandler(service, settings.patient_topic, settings.billing_topic),
        topics=settings.topics,
        group_id=group_id or settings.consumer_group,
        dead_letter_topics=settings.dead_letter_topics,
        metrics_registry=metrics_registry,
        metrics_prefix=METRICS_PREFIX,
        should_dead_letter=should_dead_letter,
        max_poll_records=settings.consumer_max_poll_records,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
