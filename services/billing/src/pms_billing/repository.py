"""All of the billing service's SQL. Every method works in the caller's transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import Account, AccountStatus, Invoice, Payment


@dataclass(frozen=True)
class InvoiceCursor:
    """Where a page of invoices ends, in their listing order (newest first)."""

    created_at: datetime
    invoice_id: uuid.UUID


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_account_if_absent(
        self, *, patient_id: uuid.UUID, name: str, email: str, now: datetime
    ) -> Account | None:
        """The new account, or ``None`` when the patient already has one. Concurrent
        callers wait on the unique index, so exactly one of them inserts."""
        statement = (
            insert(Account)
            .values(
                id=uuid.uuid4(),
                patient_id=patient_id,
                name=name,
                email=email,
                status=AccountStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[Account.patient_id])
            .returning(Account)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def find_account(self, patient_id: uuid.UUID, *, lock: bool = False) -> Account | None:
        """``lock`` holds the row until commit: one patient's changes (and so their
        events) are serialised, which keeps the outbox in commit order per patient."""
        statement = select(Account).where(Account.patient_id == patient_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).one_or_none()

    async def lock_account_of_invoice(self, invoice_id: uuid.UUID) -> Account | None:
        account_id = select(Invoice.account_id).where(Invoice.id == invoice_id).scalar_subquery()
        statement = (
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def update_contact(
        self, patient_id: uuid.UUID, *, name: str, email: str, now: datetime
    ) -> bool:
        statement = (
            update(Account)
            .where(Account.patient_id == patient_id)
            .values(name=name, email=email, updated_at=now)
            .returning(Account.id)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def close_account(self, patient_id: uuid.UUID, *, now: datetime) -> Account | None:
        """The account, now closed; ``None`` if there is none or it was already closed."""
        statement = (
            update(Account)
            .where(Account.patient_id == patient_id, Account.status == AccountStatus.ACTIVE)
            .values(status=AccountStatus.CLOSED, closed_at=now, updated_at=now)
            .returning(Account)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def add_invoice(self, invoice: Invoice) -> None:
        self.session.add(invoice)
        await self.session.flush()

    async def find_invoice(self, invoice_id: uuid.UUID, *, lock: bool = False) -> Invoice | None:
        statement = select(Invoice).where(Invoice.id == invoice_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).one_or_none()

    async def list_invoices(
        self, account_id: uuid.UUID, *, limit: int, after: InvoiceCursor | None
    ) -> list[Invoice]:
        """Newest first; keyset paging, so a page costs the same however deep it is."""
        statement = select(Invoice).where(Invoice.account_id == account_id)
        if after is not None:
            statement = statement.where(
                tuple_(Invoice.created_at, Invoice.id) < tuple_(after.created_at, after.invoice_id)
            )
        statement = statement.order_by(Invoice.created_at.desc(), Invoice.id.desc()).limit(limit)
        return list((await self.session.scalars(statement)).all())

    async def save(self) -> None:
        """Write the changes made to loaded rows now (inside the transaction)."""
        await self.session.flush()

    async def find_payment_by_key(self, idempotency_key: str) -> Payment | None:
        statement = select(Payment).where(Payment.idempotency_key == idempotency_key)
        return (await self.session.scalars(statement)).one_or_none()

    async def insert_payment_if_absent(
        self, invoice: Invoice, *, idempotency_key: str, now: datetime
    ) -> Payment | None:
        """The new payment, or ``None`` if the key (or the invoice) already has one."""
        statement = (
            insert(Payment)
            .values(
                id=uuid.uuid4(),
                invoice_id=invoice.id,
                idempotency_key=idempotency_key,
                amount_minor=invoice.amount_minor,
                currency=invoice.currency,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Payment)
        )
        return (await self.session.scalars(statement)).one_or_none()
