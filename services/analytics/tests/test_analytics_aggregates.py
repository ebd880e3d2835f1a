"""What each event changes in the aggregates, given what was known before (pure)."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from pms_analytics.aggregates import (
    BillingChange,
    InvoiceAmount,
    InvoiceFigure,
    PatientChange,
    PatientSnapshot,
    RegistrationBasis,
    TotalName,
    billing_effect,
    patient_effect,
)
from pms_contracts.vocabulary import BillingEventType, PatientEventType

T0 = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
BORN = date(1990, 5, 1)


def change(
    event_type: PatientEventType,
    occurred: datetime = T0,
    born: date | None = BORN,
    registered: date | None = date(2026, 2, 28),
) -> PatientChange:
    return PatientChange(None, uuid.uuid4(), event_type, occurred, born, registered)


def known(active: bool, born: date | None = BORN, last: datetime = T0) -> PatientSnapshot:
    return PatientSnapshot(active, born, date(2026, 2, 28), last)


def test_a_creation_counts_the_patient_as_active_under_their_birth_date_and_registration() -> None:
    effect = patient_effect(None, change(PatientEventType.CREATED))

    assert effect.totals == {TotalName.PATIENTS_CREATED: 1, TotalName.PATIENTS_ACTIVE: 1}
    assert effect.active_birth_dates == {BORN: 1}
    assert effect.registrations == {
        (RegistrationBasis.EVENT, date(2026, 3, 1)): 1,
        (RegistrationBasis.REGISTERED, date(2026, 2, 28)): 1,
    }
    assert effect.state == PatientSnapshot(True, BORN, date(2026, 2, 28), T0)


def test_the_event_day_is_the_utc_day() -> None:
    evening_in_new_york = datetime(2026, 3, 1, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    effect = patient_effect(None, change(PatientEventType.CREATED, evening_in_new_york))

    assert (RegistrationBasis.EVENT, date(2026, 3, 2)) in effect.registrations


def test_an_update_that_corrects_the_birth_date_moves_the_patient_between_birth_dates() -> None:
    corrected = date(1960, 1, 1)
    effect = patient_effect(
        known(True), change(PatientEventType.UPDATED, T0 + timedelta(hours=1), corrected)
    )

    assert effect.totals == {TotalName.PATIENTS_UPDATED: 1}  # still active: no change
    assert effect.active_birth_dates == {BORN: -1, corrected: 1}
    assert effect.registrations == {}


def test_a_deletion_removes_an_active_patient_and_keeps_the_row_inactive() -> None:
    effect = patient_effect(known(True), change(PatientEventType.DELETED, T0 + timedelta(1)))

    assert effect.totals == {TotalName.PATIENTS_DELETED: 1, TotalName.PATIENTS_ACTIVE: -1}
    assert effect.active_birth_dates == {BORN: -1}
    assert effect.state is not None
    assert not effect.state.active


def test_an_older_update_arriving_after_a_deletion_is_counted_but_revives_nobody() -> None:
    effect = patient_effect(
        known(False, last=T0), change(PatientEventType.UPDATED, T0 - timedelta(minutes=1))
    )

    assert effect.totals == {TotalName.PATIENTS_UPDATED: 1}
    assert effect.active_birth_dates == {}
    assert effect.state is None


def test_an_update_of_a_patient_never_seen_counts_them_active() -> None:
    effect = patient_effect(None, change(PatientEventType.UPDATED))

    assert effect.totals == {TotalName.PATIENTS_UPDATED: 1, TotalName.PATIENTS_ACTIVE: 1}
    assert effect.active_birth_dates == {BORN: 1}


def test_an_original_event_without_dates_keeps_the_known_birth_date() -> None:
    effect = patient_effect(
        known(True), change(PatientEventType.UPDATED, T0 + timedelta(1), None, None)
    )

    assert effect.totals == {TotalName.PATIENTS_UPDATED: 1}
    assert effect.active_birth_dates == {}  # -1 and +1 on the same date cancel out
    assert effect.state == PatientSnapshot(True, BORN, date(2026, 2, 28), T0 + timedelta(1))


def test_an_original_creation_counts_the_patient_under_an_unknown_birth_date() -> None:
    effect = patient_effect(None, change(PatientEventType.CREATED, born=None, registered=None))

    assert effect.totals == {
        TotalName.PATIENTS_CREATED: 1,
        TotalName.PATIENTS_ACTIVE: 1,
        TotalName.ACTIVE_BIRTH_DATE_UNKNOWN: 1,
    }
    assert effect.registrations == {(RegistrationBasis.EVENT, date(2026, 3, 1)): 1}


def test_a_later_birth_date_moves_a_patient_out_of_the_unknown_count() -> None:
    effect = patient_effect(
        known(True, born=None), change(PatientEventType.UPDATED, T0 + timedelta(1))
    )

    assert effect.totals == {TotalName.PATIENTS_UPDATED: 1, TotalName.ACTIVE_BIRTH_DATE_UNKNOWN: -1}
    assert effect.active_birth_dates == {BORN: 1}


def test_invoice_events_add_their_amount_on_their_utc_day_and_currency() -> None:
    paid = BillingChange(None, BillingEventType.INVOICE_PAID, T0, "GBP", 1250)

    assert billing_effect(paid).totals == {TotalName.INVOICES_PAID: 1}
    assert billing_effect(paid).invoice == InvoiceAmount(
        date(2026, 3, 1), "GBP", InvoiceFigure.PAID, 1250
    )


def test_account_events_only_count() -> None:
    closed = billing_effect(BillingChange(None, BillingEventType.ACCOUNT_CLOSED, T0))

    assert closed.totals == {TotalName.ACCOUNTS_CLOSED: 1}
    assert closed.invoice is None
