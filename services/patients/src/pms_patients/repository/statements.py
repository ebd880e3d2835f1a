"""The patients service's statements on a plain asyncpg connection, for its hot paths:
the two reads (a page of patients and one patient, :class:`PatientReads`), each one
statement that reads and writes its audit entry together, and the registration of a
patient (key, patient, event and audit entry in one statement) with what follows it.
No ORM object per row."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from pms_patients.models import Patient, outbox_events
from pms_platform.outbox import OutboxEntry
from pms_platform.request_context import current_request_id
from pms_platform.security import Principal


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class PatientQuery:
    offset: int
    limit: int
    search: str | None
    sort: str  # a key of _ORDER_COLUMNS, "-" in front for descending


# The columns of a patient as clients see them, in the order of ``PatientOut``'s fields
# (``schemas.patients_json`` pairs them by position); the id as text, ready for JSON.
PATIENT_COLUMNS = (
    "id::text AS id, name, email, address, date_of_birth, registered_date, created_at,"
    " updated_at, billing_account_id, billing_status"
)
_ORDER_COLUMNS = {
    "name": "name",
    "email": "email",
    "dateOfBirth": "date_of_birth",
    "registeredDate": "registered_date",
}
AUDIT_COLUMNS = "user_id, user_email, user_role, action, patient_ids, query, outcome, request_id"
_SEARCH = " WHERE name ILIKE $9 OR email ILIKE $9"
# The sums of the counters that the triggers of migration 0004 move with every change.
_REVISION = "(SELECT sum(revision)::bigint FROM patients_revision)"
_COUNT = "(SELECT sum(patients)::bigint FROM patients_revision)"


def _page_statement(sort: str, searched: bool) -> str:
    """One page, its total, the table's revision and the LIST audit entry, in one
    statement (one snapshot): $1 limit, $2 offset, $3-$8 the audit stamp, $9 the pattern.
    The outer join keeps one row (with the total) when the page is empty. Without a
    search the total is the trigger-kept count (no scan of the table)."""
    column = _ORDER_COLUMNS[sort.lstrip("-")]
    direction = "DESC" if sort.startswith("-") else "ASC"
    where = _SEARCH if searched else ""
    total = f"(SELECT count(*) FROM patients{where})" if searched else _COUNT  # noqa: S608
    # Qualified: a bare ``id`` in ORDER BY would be the text column of the output.
    return f"""
        WITH page AS MATERIALIZED (
            SELECT {PATIENT_COLUMNS}, patients.id AS uid
              FROM patients{where}
             ORDER BY patients.{column} {direction}, patients.id ASC
             LIMIT $1 OFFSET $2
        ), audit AS (
            INSERT INTO audit_log ({AUDIT_COLUMNS})
            SELECT $3, $4, $5, $6,
                   coalesce(array_agg(uid ORDER BY {column} {direction}, uid), '{{}}'), $7,
                   'SUCCESS', $8
              FROM page
        )
        SELECT page.id, page.name, page.email, page.address, page.date_of_birth,
               page.registered_date, page.created_at, page.updated_at,
               page.billing_account_id, page.billing_status,
               {total} AS total, {_REVISION} AS revision
          FROM (VALUES (1)) AS one LEFT JOIN page ON true
         ORDER BY page.{column} {direction}, page.uid
    """  # noqa: S608


_PAGE_STATEMENTS = {
    (f"{direction}{key}", searched): _page_statement(f"{direction}{key}", searched)
    for key in _ORDER_COLUMNS
    for direction in ("", "-")
    for searched in (False, True)
}
_AUDIT_IF_UNCHANGED = f"""
    INSERT INTO audit_log ({AUDIT_COLUMNS})
    SELECT $2, $3, $4, $5, $1::text::uuid[], $6, 'SUCCESS', $7
     WHERE {_REVISION} = $8::bigint
    RETURNING id
"""
_ONE_PATIENT = f"""
    WITH found AS (SELECT {PATIENT_COLUMNS}, version, id AS uid FROM patients WHERE id = $1),
    audit AS (
        INSERT INTO audit_log ({AUDIT_COLUMNS})
        SELECT $2, $3, $4, $5, ARRAY[uid], $6, 'SUCCESS', $7 FROM found
    )
    SELECT id, name, email, address, date_of_birth, registered_date, created_at, updated_at,
           billing_account_id, billing_status, version
      FROM found
"""  # noqa: S608


@dataclass(frozen=True)
class AuditStamp:
    """Who reads, and why, as the audit entry of a read records it."""

    user_id: str
    user_email: str
    user_role: str
    action: str
    query: str | None
    request_id: str | None

    @classmethod
    def of(cls, actor: Principal, action: str, query: str | None = None) -> "AuditStamp":
        return cls(
            actor.user_id, actor.email, actor.role.value, action, query, current_request_id()
        )

    def values(self) -> list[str | None]:
        return [
            self.user_id,
            self.user_email,
            self.user_role,
            self.action,
            self.query,
            self.request_id,
        ]


@dataclass(frozen=True)
class PageRows:
    patients: list[asyncpg.Record]
    """In ``PATIENT_COLUMNS`` order, then the total and the revision."""
    total: int
    revision: int | None
    """The table's revision the page was read at; ``None`` when it is unknown."""

    @property
    def patient_ids(self) -> str:
        """The page's ids (text already) as a PostgreSQL array literal, for
        :meth:`PatientReads.audit_if_unchanged`."""
        return "{" + ",".join(row[0] for row in self.patients) + "}"


class PatientReads:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def page(self, query: PatientQuery, stamp: AuditStamp) -> PageRows:
        """One page with its total and revision; its LIST entry is written with it."""
        statement = _PAGE_STATEMENTS[(query.sort, bool(query.search))]
        arguments = [query.limit, query.offset, *stamp.values()]
        if query.search:
            arguments.append(_like_pattern(query.search))
        rows = await self.connection.fetch(statement, *arguments)
        first = rows[0]
        patients = rows if first[0] is not None else []
        return PageRows(patients, int(first["total"]), first["revision"])

    async def audit_if_unchanged(self, revision: int, patient_ids: str, stamp: AuditStamp) -> bool:
        """Write the entry of a page served from memory (its ids as an array literal),
        only if no patient changed since it was read at ``revision``; ``False``
        (nothing written) otherwise."""
        written = await self.connection.fetchval(
            _AUDIT_IF_UNCHANGED, patient_ids, *stamp.values(), revision
        )
        return written is not None

    async def get(self, patient_id: uuid.UUID, stamp: AuditStamp) -> asyncpg.Record | None:
        """One patient (``PATIENT_COLUMNS``, then its version), its READ entry written
        with it; ``None``, and nothing written, when there is no such patient."""
        row: asyncpg.Record | None = await self.connection.fetchrow(
            _ONE_PATIENT, patient_id, *stamp.values()
        )
        return row


_MARK_BILLING_ACTIVE = """
    UPDATE patients SET billing_account_id = $2, billing_status = 'ACTIVE' WHERE id = $1
"""


async def mark_billing_active_now(
    connection: asyncpg.Connection, patient_id: uuid.UUID, account_id: str
) -> None:
    """:meth:`PatientRepository.mark_billing_active` as one statement on a plain
    connection (its own transaction): the step after a create's commit, taken on every
    create, costs one round trip instead of a session's four (and neither the version
    nor ``updated_at`` moves, as there)."""
    await connection.execute(_MARK_BILLING_ACTIVE, patient_id, account_id)


def patient_details(patient: Patient) -> tuple[Any, ...]:
    """The id and the details a client writes, as ``$1``-``$6`` of the statements that
    write them (a registration, an update)."""
    return (
        patient.id,
        patient.name,
        patient.email,
        patient.address,
        patient.date_of_birth,
        patient.registered_date,
    )


@dataclass(frozen=True)
class IdempotencyClaim:
    user_id: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Registered:
    """What :func:`register_patient` did: ``claimed`` is ``False`` when the caller had
    used the Idempotency-Key before (nothing written); ``created_at`` is ``None`` when
    another patient has the email (and nothing may be committed)."""

    claimed: bool
    created_at: datetime | None
    updated_at: datetime | None


# The key (when given), the patient, its CREATED event in the outbox (the relay
# notified) and its audit entry, in one statement. ON CONFLICT DO NOTHING without a
# target: the only unique index a new id can meet is the email's.
_REGISTER = f"""
    WITH claim AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, patient_id, status_code)
        SELECT $14::text, $15::text, $16::text, $1, 201 WHERE $15::text IS NOT NULL
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING key
    ), patient AS (
        INSERT INTO patients (id, name, email, address, date_of_birth, registered_date,
                              version, billing_status, billing_attempts,
                              billing_next_attempt_at)
        SELECT $1, $2, $3, $4, $5, $6, 1, 'PENDING', 0, $7
         WHERE $15::text IS NULL OR EXISTS (SELECT FROM claim)
        ON CONFLICT DO NOTHING
        RETURNING id, created_at, updated_at
    ), event AS (
        INSERT INTO {outbox_events.name} (topic, key, value, headers)
        SELECT $8, id::text, $9, $10::jsonb FROM patient
        RETURNING pg_notify('{outbox_events.name}', '')
    ), audit AS (
        INSERT INTO audit_log ({AUDIT_COLUMNS})
        SELECT $11, $12, $13, 'CREATE', ARRAY[id], NULL, 'SUCCESS', $17 FROM patient
    )
    SELECT $15::text IS NULL OR EXISTS (SELECT FROM claim),
           (SELECT created_at FROM patient), (SELECT updated_at FROM patient),
           (SELECT count(*) FROM event)
"""  # noqa: S608


async def register_patient(
    connection: asyncpg.Connection,
    patient: Patient,
    event: OutboxEntry,
    actor: AuditStamp,
    claim: IdempotencyClaim | None,
) -> Registered:
    """Insert a new ``patient`` with its event and audit entry (and ``claim``) in one
    round trip. Run it in a transaction when ``claim`` is given: a duplicate email must
    not leave the key claimed."""
    row = await connection.fetchrow(
        _REGISTER,
        *patient_details(patient),
        patient.billing_next_attempt_at,
        event.topic,
        event.value,
        event.headers_json,
        actor.user_id,
        actor.user_email,
        actor.user_role,
        claim.user_id if claim else None,
        claim.key if claim else None,
        claim.request_hash if claim else None,
        actor.request_id,
    )
    assert row is not None  # the outer SELECT always has its one row
    return Registered(claimed=row[0], created_at=row[1], updated_at=row[2])


async def claimed_request(
    connection: asyncpg.Connection, user_id: str, key: str
) -> tuple[str, uuid.UUID] | None:
    """The request hash and patient of the caller's earlier request with ``key``."""
    row = await connection.fetchrow(
        "SELECT request_hash, patient_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user_id,
        key,
    )
    return None if row is None else (row[0], row[1])


_PATIENT = "SELECT * FROM patients WHERE id = $1"
_LOCKED_PATIENT = _PATIENT + " FOR UPDATE"


async def patient_row(
    connection: asyncpg.Connection, patient_id: uuid.UUID, *, for_update: bool = False
) -> Patient | None:
    """The stored patient (not attached to any session); with ``for_update``, locked
    until the caller's transaction ends."""
    row = await connection.fetchrow(_LOCKED_PATIENT if for_update else _PATIENT, patient_id)
    return None if row is None else Patient(**dict(row))


async def record_audit(
    connection: asyncpg.Connection, stamp: AuditStamp, patient_ids: list[uuid.UUID]
) -> None:
    await connection.execute(
        f"INSERT INTO audit_log ({AUDIT_COLUMNS})"  # noqa: S608
        " VALUES ($1, $2, $3, $4, $5, $6, 'SUCCESS', $7)",
        stamp.user_id,
        stamp.user_email,
        stamp.user_role,
        stamp.action,
        patient_ids,
        stamp.query,
        stamp.request_id,
    )


async def patient_count(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval(f"SELECT coalesce({_COUNT}, 0)"))
