"""The patients service's SQL in an SQLAlchemy session: the billing state the retry
worker claims and records, and the audit log's pages."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms_patients.models import AuditEntry, BillingStatus, Patient


class PatientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def has_pending_billing(self) -> bool:
        pending = select(Patient.id).where(Patient.billing_status == BillingStatus.PENDING)
        return bool(await self.session.scalar(select(pending.exists())))

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
