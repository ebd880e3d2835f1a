"""The ``BillingService`` gRPC servicer: thin, like the REST routes. It validates the
request, runs the service in one transaction bounded by the call's deadline, and maps
domain errors to status codes. The original's ``CreateBillingAccount`` keeps its
message and field numbers, so the original Java patient service calls it unchanged."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NoReturn

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from pms_billing.models import Account, Invoice
from pms_billing.schemas import (
    InvoiceQuery,
    InvoiceRef,
    NewAccount,
    NewInvoice,
    PatientRef,
    Payment,
    VoidRequest,
)
from pms_billing.service import BillingService, IdempotencyKeyReusedError
from pms_contracts import billing_service_pb2 as pb
from pms_contracts.billing_service_pb2_grpc import BillingServiceServicer
from pms_platform.db import Database
from pms_platform.errors import BadRequestError, ConflictError, NotFoundError, ProblemError
from pms_platform.validation import validated

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["BillingService"].full_name
# The first matching class wins.
_STATUS_OF_ERROR: list[tuple[type[ProblemError], grpc.StatusCode]] = [
    (BadRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (IdempotencyKeyReusedError, grpc.StatusCode.ALREADY_EXISTS),
    (ConflictError, grpc.StatusCode.FAILED_PRECONDITION),
]

Context = grpc.aio.ServicerContext[Any, Any]


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def account_message(account: Account) -> pb.BillingAccount:
    return pb.BillingAccount(
        account_id=str(account.id),
        patient_id=str(account.patient_id),
        name=account.name,
        email=account.email,
        status=account.status,
        created_at=_timestamp(account.created_at),
        closed_at=_timestamp(account.closed_at),
    )


def invoice_message(invoice: Invoice) -> pb.Invoice:
    return pb.Invoice(
        invoice_id=str(invoice.id),
        account_id=str(invoice.account_id),
        patient_id=str(invoice.patient_id),
        status=invoice.status,
        amount_minor=invoice.amount_minor,
        currency=invoice.currency,
        description=invoice.description,
        created_at=_timestamp(invoice.created_at),
        issued_at=_timestamp(invoice.issued_at),
        paid_at=_timestamp(invoice.paid_at),
        voided_at=_timestamp(invoice.voided_at),
        payment_id=str(invoice.payment_id) if invoice.payment_id else "",
        void_reason=invoice.void_reason or "",
    )


async def _abort_for(context: Context, error: ProblemError) -> NoReturn:
    code = next(
        (status for kind, status in _STATUS_OF_ERROR if isinstance(error, kind)),
        grpc.StatusCode.INTERNAL,
    )
    detail = error.detail
    if error.errors:
        detail = "; ".join(f"{field}: {message}" for field, message in error.errors.items())
    await context.abort(code, detail)


class BillingServicer(BillingServiceServicer):
    def __init__(self, database: Database, service: BillingService) -> None:
        self._database = database
        self._service = service

    @asynccontextmanager
    async def _call(self, context: Context) -> AsyncIterator[None]:
        """Domain errors become status codes."""
        try:
            yield
        except ProblemError as error:
            await _abort_for(context, error)

    @asynccontextmanager
    async def _transaction(self, context: Context) -> AsyncIterator[AsyncSession]:
        """One transaction for the call. A call already past its deadline does no work;
        when the deadline passes during the work, grpc.aio cancels the call's task, which
        cancels the query it awaits (asyncpg asks PostgreSQL to stop it) and rolls back,
        so nothing is committed for a call its client has given up on."""
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded")
        async with self._database.transaction() as session:
            yield session

    @asynccontextmanager
    async def _connection(self, context: Context) -> AsyncIterator[asyncpg.Connection]:
        """A plain connection for a call that is one statement (its own transaction);
        the deadline is kept as in :meth:`_transaction`."""
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline exceeded")
        async with self._database.connection() as connection:
            yield connection

    async def CreateBillingAccount(
        self, request: pb.BillingRequest, context: Context
    ) -> pb.BillingResponse:
        async with self._call(context):
            new = validated(
                NewAccount,
                {"patientId": request.patientId, "name": request.name, "email": request.email},
            )
            async with self._connection(context) as connection:
                account = await self._service.open_account(connection, new)
        return pb.BillingResponse(accountId=str(account.id), status=account.status)

    async def GetBillingAccount(
        self, request: pb.GetBillingAccountRequest, context: Context
    ) -> pb.BillingAccount:
        async with self._call(context):
            patient = validated(PatientRef, {"patientId": request.patient_id})
            async with self._transaction(context) as session:
                account = await self._service.get_account(session, patient.patient_id)
        return account_message(account)

    async def CreateInvoice(self, request: pb.CreateInvoiceRequest, context: Context) -> pb.Invoice:
        async with self._call(context):
            patient = validated(PatientRef, {"patientId": request.patient_id})
            new = validated(
                NewInvoice,
                {
                    "amountMinor": request.amount_minor,
                    "currency": request.currency,
                    "description": request.description,
                    "draft": request.draft,
                },
            )
            async with self._transaction(context) as session:
                invoice = await self._service.create_invoice(session, patient.patient_id, new)
        return invoice_message(invoice)

    async def ListInvoices(
        self, request: pb.ListInvoicesRequest, context: Context
    ) -> pb.ListInvoicesResponse:
        async with self._call(context):
            patient = validated(PatientRef, {"patientId": request.patient_id})
            query = validated(
                InvoiceQuery, {"pageSize": request.page_size, "pageToken": request.page_token}
            )
            async with self._transaction(context) as session:
                page = await self._service.list_invoices(session, patient.patient_id, query)
        return pb.ListInvoicesResponse(
            invoices=[invoice_message(invoice) for invoice in page.invoices],
            next_page_token=page.next_page_token or "",
        )

    async def PayInvoice(self, request: pb.PayInvoiceRequest, context: Context) -> pb.Invoice:
        async with self._call(context):
            ref = validated(InvoiceRef, {"invoiceId": request.invoice_id})
            payment = validated(Payment, {"idempotencyKey": request.idempotency_key})
            async with self._transaction(context) as session:
                invoice = await self._service.pay_invoice(
                    session, ref.invoice_id, payment.idempotency_key
                )
        return invoice_message(invoice)

    async def VoidInvoice(self, request: pb.VoidInvoiceRequest, context: Context) -> pb.Invoice:
        async with self._call(context):
            ref = validated(InvoiceRef, {"invoiceId": request.invoice_id})
            void = validated(VoidRequest, {"reason": request.reason})
            async with self._transaction(context) as session:
                invoice = await self._service.void_invoice(session, ref.invoice_id, void.reason)
        return invoice_message(invoice)
