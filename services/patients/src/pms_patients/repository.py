"""All of the patients service's SQL: patients (pages, search, changes, the billing
state the retry worker claims), the audit log and the idempotency keys."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms_patients.models import AuditEntry, BillingStatus, IdempotencyKey, Patient

EMAIL_INDEX = "uq_patients_email_lower"
T = TypeVar("T")

SORTABLE_COLUMNS = {
    "name": Patient.name,
    "email": Patient.email,
    "dateOfBirth": Patient.date_of_birth,
    "registeredDate": Patient.registered_date,
}


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
    sort: str  # a key of SORTABLE_COLUMNS, "-" in front for descending


class PatientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _filtered(self, statement: Select[T], search: str | None) -> Select[T]:
        if not search:
            return statement
        # ILIKE on the trigram-indexed columns; case-insensitive by itself.
        pattern = _like_pattern(search)
        return statement.where(or_(Patient.name.ilike(pattern), Patient.email.ilike(pattern)))

    async def find_page(self, query: PatientQuery) -> tuple[Sequence[Patient], int]:
        descending = query.sort.startswith("-")
        column = SORTABLE_COLUMNS[query.sort.lstrip("-")]
        ordering: list[ColumnElement[Any]] = [
            column.desc() if descending else column.asc(),
            Patient.id.asc(),  # a stable order across pages when values tie
        ]
        page = (
            self._filtered(select(Patient), query.search)
            .order_by(*ordering)
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.scalars(page)).all()
        count_query = self._filtered(select(func.count()).select_from(Patient), query.search)
        total = (await self.session.execute(count_query)).scalar_one()
        return rows, int(total)

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
        try:
            async with self.session.begin_nested():
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
