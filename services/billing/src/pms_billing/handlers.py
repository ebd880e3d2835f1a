"""Billing's inbound events: ``PatientEventHandler``, which decodes the ``patient``
topic's events and calls the service, and ``patient_event_consumer``, the platform's
idempotent consumer that runs it (one transaction per batch; none for the events it
ignores). The events billing
publishes are in ``events.py``."""

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import processed_events
from pms_billing.schemas import NewAccount, PatientRef
from pms_billing.service import BillingService
from pms_billing.settings import BillingSettings
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_contracts.vocabulary import PatientEventType
from pms_platform.db import Database
from pms_platform.errors import BadRequestError
from pms_platform.event_consumer import IdempotentConsumer
from pms_platform.event_handlers import PoisonEventError
from pms_platform.kafka import ConsumedEvent
from pms_platform.logging import get_logger
from pms_platform.validation import validated
from pms_platform.workers import consumer_worker

_log = get_logger("pms.billing.events")  # the name its log lines have always carried
_APPLIED_TYPES = frozenset({PatientEventType.UPDATED, PatientEventType.DELETED})


class PatientEventHandler:
    """``PATIENT_UPDATED`` follows the patient's name and email; ``PATIENT_DELETED``
    closes their account; other types (``PATIENT_CREATED``: the account comes from the
    gRPC call) are acknowledged and ignored (:meth:`applies`)."""

    def __init__(self, service: BillingService) -> None:
        self._service = service

    def decode(self, event: ConsumedEvent) -> PatientEvent:
        return event.decode(PatientEvent())

    def event_id(self, message: PatientEvent) -> str | None:
        return message.event_id or None

    def applies(self, message: PatientEvent) -> bool:
        """Only updates and deletions change an account: the rest is acknowledged
        without a transaction (one per create saved)."""
        return message.event_type in _APPLIED_TYPES

    async def handle(
        self, session: AsyncSession, message: PatientEvent, event: ConsumedEvent
    ) -> None:
        try:
            if message.event_type == PatientEventType.UPDATED:
                contact = validated(
                    NewAccount,
                    {"patientId": message.patientId, "name": message.name, "email": message.email},
                )
                found = await self._service.update_contact(
                    session, contact.patient_id, name=contact.name, email=contact.email
                )
                _log.info("patient contact applied", account_found=found, offset=event.offset)
            elif message.event_type == PatientEventType.DELETED:
                patient = validated(PatientRef, {"patientId": message.patientId})
                closed = await self._service.close_account(session, patient.patient_id)
                _log.info("patient deletion applied", account_closed=closed, offset=event.offset)
        except BadRequestError as error:
            # Field names only: the values are patient details.
            fields = ", ".join(sorted(error.errors or {}))
            raise PoisonEventError(f"{message.event_type} with invalid fields: {fields}") from None


def patient_event_consumer(
    settings: BillingSettings,
    database: Database,
    service: BillingService,
    *,
    metrics_registry: CollectorRegistry | None = None,
) -> IdempotentConsumer[PatientEvent]:
    """The ``patient`` topic's consumer in billing's group; poison goes to its DLT, and
    with a registry it exports ``billing_events_*`` and ``billing_consumer_lag``."""
    return consumer_worker(
        settings,
        database,
        processed_events,
        PatientEventHandler(service),
        topics=[settings.patient_topic],
        group_id=settings.consumer_group,
        dead_letter_topics={settings.patient_topic: settings.patient_dead_letter_topic},
        metrics_registry=metrics_registry,
        metrics_prefix="billing",
    )
