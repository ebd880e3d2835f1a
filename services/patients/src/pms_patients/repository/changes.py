"""A patient's change (an update or a removal) on a plain asyncpg connection, in the
caller's transaction: the row is locked and read first (the service checks its version
and builds the event from it), then one statement writes the change, its event in the
outbox (the relay notified) and its audit entry. Four round trips with BEGIN and COMMIT,
where the ORM session took seven and three times the CPU (``bench/README.md``,
2026-12-08).

An update that changes nothing moves neither the version nor ``updated_at`` (as the
session did: it wrote no ``UPDATE`` then), but its event and audit entry are written.
"""

import uuid

import asyncpg

from pms_patients.models import Patient, outbox_events
from pms_patients.repository.statements import (
    AUDIT_COLUMNS,
    AuditStamp,
    patient_details,
)
from pms_platform.outbox import OutboxEntry

EMAIL_INDEX = "uq_patients_email_lower"


class DuplicateEmailError(Exception):
    """Another patient already has this email (in any letter case)."""


def _event_and_audit(first: int) -> str:
    """The event's and the audit entry's CTEs, their parameters numbered from ``first``:
    the event's topic, value and headers, then the audit stamp (user id, email, role,
    action, query, request id). ``$1`` is the patient's id."""
    topic, value, headers, user, email, role, action, query, request = (
        f"${number}" for number in range(first, first + 9)
    )
    return f"""
    event AS (
        INSERT INTO {outbox_events.name} (topic, key, value, headers)
        VALUES ({topic}, $1::text, {value}, {headers}::jsonb)
        RETURNING pg_notify('{outbox_events.name}', '')
    ), audit AS (
        INSERT INTO audit_log ({AUDIT_COLUMNS})
        VALUES ({user}, {email}, {role}, {action}, ARRAY[$1::uuid], {query}, 'SUCCESS', {request})
    )"""  # noqa: S608


# $1 the id, $2-$6 the details, then the event and the audit stamp.
_UPDATE = f"""
    WITH changed AS (
        UPDATE patients
           SET name = $2, email = $3, address = $4, date_of_birth = $5,
               registered_date = $6, version = version + 1, updated_at = now()
         WHERE id = $1
           AND (name, email, address, date_of_birth, registered_date)
               IS DISTINCT FROM ($2::text, $3::text, $4::text, $5::date, $6::date)
        RETURNING *
    ), {_event_and_audit(7)}
    SELECT changed.*, (SELECT count(*) FROM event) AS notified
      FROM (VALUES (1)) AS one LEFT JOIN changed ON true
"""  # noqa: S608

_REMOVE = f"""
    WITH removed AS (DELETE FROM patients WHERE id = $1 RETURNING id), {_event_and_audit(2)}
    SELECT (SELECT count(*) FROM removed), (SELECT count(*) FROM event)
"""  # noqa: S608


async def save_patient_details(
    connection: asyncpg.Connection, patient: Patient, event: OutboxEntry, stamp: AuditStamp
) -> Patient:
    """Write the details of ``patient`` (locked: ``patient_row`` with ``for_update``) with
    its event and audit entry; the stored patient afterwards. Raises
    :class:`DuplicateEmailError` when another patient has the email."""
    try:
        row = await connection.fetchrow(
            _UPDATE,
            *patient_details(patient),
            event.topic,
            event.value,
            event.headers_json,
            *stamp.values(),
        )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == EMAIL_INDEX:
            raise DuplicateEmailError from None
        raise
    assert row is not None  # the outer SELECT always has its one row
    if row["id"] is None:  # nothing changed: the row as it was
        return patient
    stored = dict(row.items())
    del stored["notified"]
    return Patient(**stored)


async def remove_patient(
    connection: asyncpg.Connection, patient_id: uuid.UUID, event: OutboxEntry, stamp: AuditStamp
) -> None:
    """Delete the patient (locked) with its event and audit entry."""
    await connection.execute(
        _REMOVE,
        patient_id,
        event.topic,
        event.value,
        event.headers_json,
        *stamp.values(),
    )
