"""All of the patients service's SQL: patients (pages, search, changes, the billing
state the retry worker claims), the audit log and the idempotency keys.

The two hot reads, a page of patients and one patient, are :class:`PatientReads`: plain
SQL on an asyncpg connection, each one statement that reads and writes its audit entry
together (the statement is its own transaction), with no ORM object per row.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms_patients.models import AuditEntry, BillingStatus, IdempotencyKey, Patient
from pms_platform.request_context import current_request_id
from pms_platform.security import Principal

EMAIL_INDEX = "uq_patients_email_lower"
T = TypeVar("T")


class DuplicateEmailError(Exception):
    """Another patient already has this email (in any letter case)."""


def is_duplicate_email(error: IntegrityError) -> bool:
    return EMAIL_INDEX in str(error.orig)


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class PatientQuery:
    offset: int
    limit: int
    search: str | None
    sort: str  # a key of _ORDER_COLUMNS, "-" in front for descending


class PatientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self) -> int:
        total = await self.session.execute(select(func.count()).select_from(Patient))
        return int(total.scalar_one())

    async def get(self, patient_id: uuid.UUID, *, for_update: bool = False) -> Patient | None:
        statement = select(Patient).where(Patient.id == patient_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def add(self, patient: Patient) -> Patient:
        """Insert and flush, so that a duplicate email surfaces here as one error type."""
        self.session.add(patient)
        await self._flush_checking_email()
        return patient

    async def save(self, patient: Patient) -> None:
        """Write the changes of ``patient``, then read back what the database set
        (``updated_at``), so that the answer shows the stored row."""
        await self._flush_checking_email()
        await self.session.refresh(patient)

    async def _flush_checking_email(self) -> None:
        # No savepoint around it (two round trips per write): a duplicate email fails
        # the whole request, whose transaction then rolls back.
        try:
            await self.session.flush()
        except IntegrityError as error:
            if is_duplicate_email(error):
                raise DuplicateEmailError from None
            raise

    async def remove(self, patient: Patient) -> None:
        await self.session.execute(delete(Patient).where(Patient.id == patient.id))

    async def claim_pending_billing(self, limit: int) -> Sequence[Patient]:
        """Patients whose billing account is still to be created and due for a try,
        locked so that other instances skip them."""
        statement = (
            select(Patient)
            .where(
                Patient.billing_status == BillingStatus.PENDING,
                Patient.billing_next_attempt_at <= func.now(),
            )
            .order_by(Patient.billing_next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(statement)).all()

    async def mark_billing_active(self, patient_id: uuid.UUID, account_id: str) -> None:
        # Neither the version nor updated_at moves: billing state is not what a client
        # writes, so a client's If-Match must not go stale because billing answered.
        await self.session.execute(
            update(Patient)
            .where(Patient.id == patient_id)
            .values(
                billing_account_id=account_id,
                billing_status=BillingStatus.ACTIVE,
                updated_at=Patient.updated_at,
            )
            .execution_options(synchronize_session=False)
        )

    async def postpone_billing(
        self, patient_id: uuid.UUID, attempts: int, delay: timedelta
    ) -> None:
        await self.session.execute(
            update(Patient)
            .where(Patient.id == patient_id)
            .values(
                billing_attempts=attempts,
                billing_next_attempt_at=func.now() + delay,
                updated_at=Patient.updated_at,
            )
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class AuditQuery:
    offset: int
    limit: int
    patient_id: uuid.UUID | None = None
    user_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, entry: AuditEntry) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def find_page(self, query: AuditQuery) -> tuple[Sequence[AuditEntry], int]:
        conditions: list[ColumnElement[bool]] = []
        if query.patient_id is not None:
            conditions.append(AuditEntry.patient_ids.contains([query.patient_id]))
        if query.user_id is not None:
            conditions.append(AuditEntry.user_id == query.user_id)
        if query.action is not None:
            conditions.append(AuditEntry.action == query.action)
        if query.since is not None:
            conditions.append(AuditEntry.occurred_at >= query.since)
        if query.until is not None:
            conditions.append(AuditEntry.occurred_at < query.until)
        page = (
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.scalars(page)).all()
        total = (
            await self.session.execute(
                select(func.count()).select_from(AuditEntry).where(*conditions)
            )
        ).scalar_one()
        return rows, int(total)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, record: IdempotencyKey) -> IdempotencyKey | None:
        """Store ``record`` unless the caller already used its key; then return the stored one.

        A concurrent request with the same key waits on the primary key until the first
        transaction ends, then sees its row: two retries can never both create a patient.
        """
        inserted = await self.session.execute(
            insert(IdempotencyKey)
            .values(
                user_id=record.user_id,
                key=record.key,
                request_hash=record.request_hash,
                patient_id=record.patient_id,
                status_code=record.status_code,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(IdempotencyKey.key)
        )
        if inserted.first() is not None:
            return None
        return await self.session.get(
            IdempotencyKey, (record.user_id, record.key), populate_existing=True
        )


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
_AUDIT_COLUMNS = "user_id, user_email, user_role, action, patient_ids, query, outcome, request_id"
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
            INSERT INTO audit_log ({_AUDIT_COLUMNS})
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
    INSERT INTO audit_log ({_AUDIT_COLUMNS})
    SELECT $2, $3, $4, $5, $1::uuid[], $6, 'SUCCESS', $7
     WHERE {_REVISION} = $8::bigint
    RETURNING id
"""
_ONE_PATIENT = f"""
    WITH found AS (SELECT {PATIENT_COLUMNS}, version, id AS uid FROM patients WHERE id = $1),
    audit AS (
        INSERT INTO audit_log ({_AUDIT_COLUMNS})
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
    def patient_ids(self) -> list[str]:
        return [row[0] for row in self.patients]


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

    async def audit_if_unchanged(
        self, revision: int, patient_ids: list[str], stamp: AuditStamp
    ) -> bool:
        """Write the entry of a page served from memory, only if no patient changed
        since it was read at ``revision``; ``False`` (nothing written) otherwise."""
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
