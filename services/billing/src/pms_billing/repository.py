"""All of the billing service's SQL. Every method of :class:`BillingRepository` works in
the caller's transaction; :func:`open_account_once` is one statement on a plain asyncpg
connection (the hot gRPC call every patient registration makes)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import Account, AccountStatus, Invoice, Payment, outbox_events
from pms_platform.outbox import OutboxEntry


@dataclass(frozen=True)
class InvoiceCursor:
    """Where a page of invoices ends, in their listing order (newest first)."""

    created_at: datetime
    invoice_id: uuid.UUID


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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


@dataclass(frozen=True)
class OpenedAccount:
    id: uuid.UUID
    status: str
    created: bool
    """``False``: the patient already had this account (nothing written)."""


# The account and, only when it is new, its event in the outbox (the relay notified),
# in one statement: one round trip, one transaction. On conflict the patient's existing
# account is read in the same statement.
_OPEN_ACCOUNT = f"""
    WITH created AS (
        INSERT INTO billing_accounts (id, patient_id, name, email, status, created_at, updated_at)
        VALUES ($1, $2, $3, $4, '{AccountStatus.ACTIVE.value}', $5, $5)
        ON CONFLICT (patient_id) DO NOTHING
        RETURNING id, status
    ), recorded AS (
        INSERT INTO {outbox_events.name} (topic, key, value, headers)
        SELECT $6, $7, $8, $9::jsonb FROM created
        RETURNING pg_notify('{outbox_events.name}', '')
    )
    SELECT id, status, true FROM created WHERE (SELECT count(*) FROM recorded) = 1
    UNION ALL
    SELECT id, status, false FROM billing_accounts
     WHERE patient_id = $2 AND NOT EXISTS (SELECT FROM created)
"""  # noqa: S608
_ACCOUNT_OF_PATIENT = "SELECT id, status, false FROM billing_accounts WHERE patient_id = $1"


async def open_account_once(
    connection: asyncpg.Connection,
    *,
    account_id: uuid.UUID,
    patient_id: uuid.UUID,
    name: str,
    email: str,
    now: datetime,
    event: OutboxEntry,
) -> OpenedAccount:
    """The patient's new account with ``event`` recorded, or the account they already
    have. Concurrent callers wait on the unique index, so exactly one of them inserts."""
    row = await connection.fetchrow(
        _OPEN_ACCOUNT,
        account_id,
        patient_id,
        name,
        email,
        now,
        event.topic,
        event.key,
        event.value,
        event.headers_json,
    )
    if row is None:  # a concurrent call committed it after this statement's snapshot
        row = await connection.fetchrow(_ACCOUNT_OF_PATIENT, patient_id)
    if row is None:  # accounts are never deleted, so the conflict's row is there
        raise RuntimeError("account conflict without an account")
    return OpenedAccount(row[0], row[1], row[2])
