"""The changes decoded from events (``PatientChange``, ``BillingChange``), the names of
the counters (``TotalName``) and what one change does to them: pure functions, no SQL.

Counters move by the difference an event makes. For patients that difference depends on
what was known before (was the patient active, under which birth date were they
counted?), which the small per-patient state answers:

- ``patients_created|updated|deleted`` count events of each type (each event once).
- A patient is active after a create or an update and inactive after a delete; the
  newest event by its time decides, so a late, older event is counted by type but does
  not change the state (a redelivered update cannot revive a deleted patient).
- Active patients are counted per date of birth (``active_birth_dates``), or under
  ``patients_active_birth_date_unknown`` when no event told us the date (the original
  Java producer sends fields 1-4 only); a later event without a date keeps the known one.
- Registrations per day count creations, by the event's UTC date and, when the event
  carries one, by the registered date.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

from pms_contracts.vocabulary import BillingEventType, PatientEventType

K = TypeVar("K")


class TotalName(StrEnum):
    """The rows of the ``totals`` table."""

    PATIENTS_ACTIVE = "patients_active"
    PATIENTS_CREATED = "patients_created"
    PATIENTS_UPDATED = "patients_updated"
    PATIENTS_DELETED = "patients_deleted"
    ACTIVE_BIRTH_DATE_UNKNOWN = "patients_active_birth_date_unknown"
    ACCOUNTS_CREATED = "accounts_created"
    ACCOUNTS_CLOSED = "accounts_closed"
    INVOICES_ISSUED = "invoices_issued"
    INVOICES_PAID = "invoices_paid"
    INVOICES_VOIDED = "invoices_voided"


class RegistrationBasis(StrEnum):
    REGISTERED = "registered"
    EVENT = "event"


class InvoiceFigure(StrEnum):
    """Which columns of ``daily_billing`` an invoice event adds to (``<figure>_count``,
    ``<figure>_minor``)."""

    ISSUED = "issued"
    PAID = "paid"
    VOIDED = "voided"


_PATIENT_COUNTS = {
    PatientEventType.CREATED: TotalName.PATIENTS_CREATED,
    PatientEventType.UPDATED: TotalName.PATIENTS_UPDATED,
    PatientEventType.DELETED: TotalName.PATIENTS_DELETED,
}
_BILLING_COUNTS = {
    BillingEventType.ACCOUNT_CREATED: TotalName.ACCOUNTS_CREATED,
    BillingEventType.ACCOUNT_CLOSED: TotalName.ACCOUNTS_CLOSED,
    BillingEventType.INVOICE_ISSUED: TotalName.INVOICES_ISSUED,
    BillingEventType.INVOICE_PAID: TotalName.INVOICES_PAID,
    BillingEventType.INVOICE_VOIDED: TotalName.INVOICES_VOIDED,
}
_INVOICE_FIGURES = {
    BillingEventType.INVOICE_ISSUED: InvoiceFigure.ISSUED,
    BillingEventType.INVOICE_PAID: InvoiceFigure.PAID,
    BillingEventType.INVOICE_VOIDED: InvoiceFigure.VOIDED,
}


@dataclass(frozen=True)
class PatientChange:
    """A validated patient event, without the patient's personal details."""

    event_id: str | None
    patient_id: uuid.UUID
    event_type: PatientEventType
    occurred_at: datetime  # aware
    date_of_birth: date | None
    registered_date: date | None


@dataclass(frozen=True)
class BillingChange:
    """A validated billing event; invoice events carry their currency and amount."""

    event_id: str | None
    event_type: BillingEventType
    occurred_at: datetime  # aware
    currency: str | None = None
    amount_minor: int = 0


AnalyticsChange = PatientChange | BillingChange


@dataclass(frozen=True)
class PatientSnapshot:
    """One row of ``patient_states``."""

    active: bool
    date_of_birth: date | None
    registered_date: date | None
    last_event_at: datetime


@dataclass(frozen=True)
class PatientEffect:
    totals: dict[TotalName, int]
    registrations: dict[tuple[RegistrationBasis, date], int]
    active_birth_dates: dict[date, int]
    state: PatientSnapshot | None  # the row to write; None: the event is older than the row


@dataclass(frozen=True)
class InvoiceAmount:
    day: date
    currency: str
    figure: InvoiceFigure
    amount_minor: int


@dataclass(frozen=True)
class BillingEffect:
    totals: dict[TotalName, int]
    invoice: InvoiceAmount | None


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def patient_effect(before: PatientSnapshot | None, change: PatientChange) -> PatientEffect:
    """The counter changes of ``change`` given the patient's state ``before`` it."""
    totals: Counter[TotalName] = Counter({_PATIENT_COUNTS[change.event_type]: 1})
    registrations: Counter[tuple[RegistrationBasis, date]] = Counter()
    if change.event_type is PatientEventType.CREATED:
        registrations[(RegistrationBasis.EVENT, utc_day(change.occurred_at))] += 1
        if change.registered_date is not None:
            registrations[(RegistrationBasis.REGISTERED, change.registered_date)] += 1
    if before is not None and change.occurred_at < before.last_event_at:
        return PatientEffect(dict(totals), dict(registrations), {}, None)

    after = PatientSnapshot(
        active=change.event_type is not PatientEventType.DELETED,
        date_of_birth=change.date_of_birth or (before.date_of_birth if before else None),
        registered_date=change.registered_date or (before.registered_date if before else None),
        last_event_at=change.occurred_at,
    )
    birth_dates: Counter[date] = Counter()
    for snapshot, sign in ((before, -1), (after, 1)):
        if snapshot is None or not snapshot.active:
            continue
        totals[TotalName.PATIENTS_ACTIVE] += sign
        if snapshot.date_of_birth is None:
            totals[TotalName.ACTIVE_BIRTH_DATE_UNKNOWN] += sign
        else:
            birth_dates[snapshot.date_of_birth] += sign
    return PatientEffect(_nonzero(totals), dict(registrations), _nonzero(birth_dates), after)


def billing_effect(change: BillingChange) -> BillingEffect:
    totals = {_BILLING_COUNTS[change.event_type]: 1}
    figure = _INVOICE_FIGURES.get(change.event_type)
    if figure is None or change.currency is None:
        return BillingEffect(totals, None)
    amount = InvoiceAmount(
        utc_day(change.occurred_at), change.currency, figure, change.amount_minor
    )
    return BillingEffect(totals, amount)


def _nonzero(counts: Counter[K]) -> dict[K, int]:
    return {key: value for key, value in counts.items() if value}
