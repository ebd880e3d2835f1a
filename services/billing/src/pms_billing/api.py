"""The REST view of billing for the gateway (``/api/billing/**``): thin routes over the
service, one transaction per request. ADMIN and CLINICIAN only; an illegal invoice
transition is a 409 (the resource's state conflicts with the request)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from pms_billing.schemas import (
    IDEMPOTENCY_KEY_SCHEMA,
    AccountOut,
    InvoiceListParams,
    InvoiceOut,
    InvoicePageOut,
    NewInvoice,
    Payment,
    VoidRequest,
)
from pms_billing.service import (
    AccountClosedError,
    AccountNotFoundError,
    BillingService,
    IdempotencyKeyReusedError,
    InvoiceNotFoundError,
    InvoiceStateError,
    PageTokenError,
)
from pms_platform.db import SessionDep
from pms_platform.errors import ROLE_REFUSALS, BadRequestError, problem_responses
from pms_platform.security import Role, require_roles
from pms_platform.validation import validated

router = APIRouter(
    prefix="/billing",
    tags=["billing"],
    # Checked before anything else, so an anonymous caller learns nothing (not even 404).
    dependencies=[Depends(require_roles(Role.ADMIN, Role.CLINICIAN))],
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS),
)


async def billing_service(request: Request) -> BillingService:
    service: BillingService = request.app.state.billing_service
    return service


IDEMPOTENCY_KEY = "Idempotency-Key"
# Read by ``payment_key`` (so the 400 keeps the header's name and the key's own words),
# documented on the route as what it is: a required header.
IDEMPOTENCY_KEY_PARAMETER = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": True,
    "description": "Names this payment: a retry with the same key pays once",
    "schema": IDEMPOTENCY_KEY_SCHEMA,
}


async def payment_key(request: Request) -> str:
    """The ``Idempotency-Key`` header, checked as :class:`Payment` checks a key; a 400
    naming the header when it is missing or not valid."""
    try:
        payment = validated(Payment, {"idempotencyKey": request.headers.get(IDEMPOTENCY_KEY) or ""})
    except BadRequestError as error:
        message = next(iter((error.errors or {}).values()), error.detail)
        raise BadRequestError(error.detail, errors={IDEMPOTENCY_KEY: message}) from None
    return payment.idempotency_key


ServiceDep = Annotated[BillingService, Depends(billing_service)]
PaymentKey = Annotated[str, Depends(payment_key)]
PatientId = Annotated[uuid.UUID, Path(alias="patientId", description="The patient's id")]
InvoiceId = Annotated[uuid.UUID, Path(alias="invoiceId")]


@router.get(
    "/accounts/{patientId}",
    summary="A patient's billing account",
    responses=problem_responses(AccountNotFoundError),
)
async def read_account(
    patient_id: PatientId, session: SessionDep, service: ServiceDep
) -> AccountOut:
    return AccountOut.model_validate(await service.get_account(session, patient_id))


@router.get(
    "/accounts/{patientId}/invoices",
    summary="A patient's invoices, newest first",
    responses=problem_responses(BadRequestError, PageTokenError, AccountNotFoundError),
)
async def list_invoices(
    patient_id: PatientId,
    session: SessionDep,
    service: ServiceDep,
    query: Annotated[InvoiceListParams, Query()],
) -> InvoicePageOut:
    page = await service.list_invoices(session, patient_id, query)
    return InvoicePageOut(
        invoices=[InvoiceOut.model_validate(invoice) for invoice in page.invoices],
        next_page_token=page.next_page_token,
    )


@router.post(
    "/accounts/{patientId}/invoices",
    status_code=201,
    summary="Bill a patient (ISSUED, or DRAFT with `draft: true`)",
    responses=problem_responses(AccountNotFoundError, AccountClosedError),
)
async def create_invoice(
    patient_id: PatientId,
    new: NewInvoice,
    session: SessionDep,
    service: ServiceDep,
    response: Response,
) -> InvoiceOut:
    invoice = await service.create_invoice(session, patient_id, new)
    response.headers["Location"] = f"/billing/invoices/{invoice.id}"
    return InvoiceOut.model_validate(invoice)


@router.get(
    "/invoices/{invoiceId}",
    summary="One invoice",
    responses=problem_responses(InvoiceNotFoundError),
)
async def read_invoice(
    invoice_id: InvoiceId, session: SessionDep, service: ServiceDep
) -> InvoiceOut:
    return InvoiceOut.model_validate(await service.get_invoice(session, invoice_id))


@router.post(
    "/invoices/{invoiceId}/pay",
    summary="Pay a DRAFT or ISSUED invoice in full",
    description="Send an `Idempotency-Key`: a retry with the same key records no second "
    "payment and answers the same invoice. 409 when the invoice is VOID or already paid "
    "with another key, or when the key was used for another invoice.",
    responses=problem_responses(InvoiceNotFoundError, InvoiceStateError, IdempotencyKeyReusedError),
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
async def pay_invoice(
    invoice_id: InvoiceId, session: SessionDep, service: ServiceDep, key: PaymentKey
) -> InvoiceOut:
    invoice = await service.pay_invoice(session, invoice_id, key)
    return InvoiceOut.model_validate(invoice)


@router.post(
    "/invoices/{invoiceId}/void",
    summary="Void a DRAFT or ISSUED invoice (voiding a VOID invoice changes nothing)",
    responses=problem_responses(InvoiceNotFoundError, InvoiceStateError),
)
async def void_invoice(
    invoice_id: InvoiceId,
    session: SessionDep,
    service: ServiceDep,
    body: VoidRequest | None = None,
) -> InvoiceOut:
    reason = body.reason if body is not None else ""
    return InvoiceOut.model_validate(await service.void_invoice(session, invoice_id, reason))
