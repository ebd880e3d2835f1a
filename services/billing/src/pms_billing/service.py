"""Billing's domain: ``BillingService`` (accounts, invoices and the invoice state
machine), its domain errors and the invoice listing's page token. No HTTP or gRPC here;
every method works in the caller's transaction, which commits the change, its events
(outbox) and nothing else (``open_account``, one statement, is its own transaction).

Invoice states: DRAFT or ISSUED -> PAID (payment of the whole amount) or VOID. PAID and
VOID are final; voiding a VOID invoice again changes nothing. Every change to a
patient's billing locks their account row first, so one patient's changes, and so
their events, are committed one after the other.

A page token is the domain's cursor, the same opaque text over REST and gRPC: the
position of the last invoice of a page, which the service issues and reads back.
"""

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.events import NewAccountIds, OutboxBillingEvents
from pms_billing.models import Account, AccountStatus, Invoice, InvoiceStatus
from pms_billing.repository import (
    BillingRepository,
    InvoiceCursor,
    OpenedAccount,
    open_account_once,
)
from pms_billing.schemas import InvoiceQuery, NewAccount, NewInvoice
from pms_contracts.vocabulary import BillingEventType
from pms_platform.errors import VALIDATION_DETAIL, BadRequestError, ConflictError, NotFoundError

OPEN_INVOICE_STATES = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.ISSUED})


class AccountNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("The patient has no billing account")


class InvoiceNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("Invoice not found")


class InvoiceStateError(ConflictError):
    """The invoice's state does not allow this change (an illegal transition)."""

    slug = "invoice-state"


class AccountClosedError(ConflictError):
    slug = "account-closed"

    def __init__(self) -> None:
        super().__init__("The billing account is closed")


class IdempotencyKeyReusedError(ConflictError):
    slug = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__("The idempotency key was already used to pay another invoice")


class PageTokenError(BadRequestError):
    """A page token this service did not issue (or one altered on the way)."""

    def __init__(self) -> None:
        super().__init__(VALIDATION_DETAIL, errors={"pageToken": "The page token is not valid"})


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[Invoice]
    next_page_token: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def encode_page_token(invoice: Invoice) -> str:
    raw = f"{invoice.created_at.isoformat()}|{invoice.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> InvoiceCursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created_at, invoice_id = raw.split("|")
        return InvoiceCursor(datetime.fromisoformat(created_at), uuid.UUID(invoice_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise PageTokenError() from None


class BillingService:
    """Billing's domain operations; ``events`` records the billing events of a change in
    its transaction."""

    def __init__(self, events: OutboxBillingEvents) -> None:
        self._events = events

    async def open_account(self, connection: asyncpg.Connection, new: NewAccount) -> OpenedAccount:
        """The patient's account: created now with its ACCOUNT_CREATED event, or the one
        they already have (unchanged, no event). One statement: see
        :func:`~pms_billing.repository.open_account_once`."""
        ids = NewAccountIds(id=uuid.uuid4(), patient_id=new.patient_id)
        return await open_account_once(
            connection,
            account_id=ids.id,
            patient_id=new.patient_id,
            name=new.name,
            email=new.email,
            now=_now(),
            event=self._events.entry(BillingEventType.ACCOUNT_CREATED, ids),
        )

    async def get_account(self, session: AsyncSession, patient_id: uuid.UUID) -> Account:
        account = await BillingRepository(session).find_account(patient_id)
        if account is None:
            raise AccountNotFoundError()
        return account

    async def create_invoice(
        self, session: AsyncSession, patient_id: uuid.UUID, new: NewInvoice
    ) -> Invoice:
        repository = BillingRepository(session)
        account = await repository.find_account(patient_id, lock=True)
        if account is None:
            raise AccountNotFoundError()
        if account.status != AccountStatus.ACTIVE:
            raise AccountClosedError()
        now = _now()
        invoice = Invoice(
            id=uuid.uuid4(),
            account_id=account.id,
            patient_id=account.patient_id,
            status=InvoiceStatus.DRAFT if new.draft else InvoiceStatus.ISSUED,
            amount_minor=new.amount_minor,
            currency=new.currency,
            description=new.description,
            created_at=now,
            issued_at=None if new.draft else now,
        )
        await repository.add_invoice(invoice)
        if not new.draft:
            await self._events.record(session, BillingEventType.INVOICE_ISSUED, account, invoice)
        return invoice

    async def list_invoices(
        self, session: AsyncSession, patient_id: uuid.UUID, query: InvoiceQuery
    ) -> InvoicePage:
        after = decode_page_token(query.page_token) if query.page_token else None
        repository = BillingRepository(session)
        account = await repository.find_account(patient_id)
        if account is None:
            raise AccountNotFoundError()
        rows = await repository.list_invoices(account.id, limit=query.limit + 1, after=after)
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return InvoicePage(page, encode_page_token(page[-1]) if more else None)

    async def get_invoice(self, session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
        invoice = await BillingRepository(session).find_invoice(invoice_id)
        if invoice is None:
            raise InvoiceNotFoundError()
        return invoice

    async def pay_invoice(
        self, session: AsyncSession, invoice_id: uuid.UUID, idempotency_key: str
    ) -> Invoice:
        """Pay the whole invoice once. The same key again answers the same invoice
        without a second payment; a key used for another invoice is refused."""
        repository = BillingRepository(session)
        account, invoice = await self._locked(repository, invoice_id)
        previous = await repository.find_payment_by_key(idempotency_key)
        if previous is not None:
            if previous.invoice_id != invoice.id:
                raise IdempotencyKeyReusedError()
            return invoice
        if invoice.status not in OPEN_INVOICE_STATES:
            raise InvoiceStateError(f"A {invoice.status} invoice cannot be paid")
        now = _now()
        payment = await repository.insert_payment_if_absent(
            invoice, idempotency_key=idempotency_key, now=now
        )
        if payment is None:  # the same key, committed meanwhile for another invoice
            raise IdempotencyKeyReusedError()
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now
        invoice.payment_id = payment.id
        await repository.save()
        await self._events.record(session, BillingEventType.INVOICE_PAID, account, invoice)
        return invoice

    async def void_invoice(
        self, session: AsyncSession, invoice_id: uuid.UUID, reason: str
    ) -> Invoice:
        repository = BillingRepository(session)
        account, invoice = await self._locked(repository, invoice_id)
        if invoice.status == InvoiceStatus.VOID:
            return invoice
        if invoice.status not in OPEN_INVOICE_STATES:
            raise InvoiceStateError(f"A {invoice.status} invoice cannot be voided")
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = _now()
        invoice.void_reason = reason or None
        await repository.save()
        await self._events.record(session, BillingEventType.INVOICE_VOIDED, account, invoice)
        return invoice

    async def update_contact(
        self, session: AsyncSession, patient_id: uuid.UUID, *, name: str, email: str
    ) -> bool:
        """Follow a patient's new name and email; ``False`` if they have no account."""
        repository = BillingRepository(session)
        return await repository.update_contact(patient_id, name=name, email=email, now=_now())

    async def close_account(self, session: AsyncSession, patient_id: uuid.UUID) -> bool:
        """Close the account of a deleted patient (its open invoices stay as they are);
        ``False`` if there is no open account."""
        account = await BillingRepository(session).close_account(patient_id, now=_now())
        if account is None:
            return False
        await self._events.record(session, BillingEventType.ACCOUNT_CLOSED, account)
        return True

    async def _locked(
        self, repository: BillingRepository, invoice_id: uuid.UUID
    ) -> tuple[Account, Invoice]:
        """Lock the invoice's account, then the invoice (always in that order)."""
        account = await repository.lock_account_of_invoice(invoice_id)
        invoice = await repository.find_invoice(invoice_id, lock=True) if account else None
        if account is None or invoice is None:
            raise InvoiceNotFoundError()
        return account, invoice
