"""Invoices over real gRPC: every RPC's happy path and its error codes."""

import uuid

import grpc
import pytest
from sqlalchemy import func, select

from pms_billing.models import Payment, outbox_events
from pms_contracts.billing_service_pb2 import (
    BillingRequest,
    CreateInvoiceRequest,
    Invoice,
    ListInvoicesRequest,
    PayInvoiceRequest,
    VoidInvoiceRequest,
)

from .conftest import Billing

pytestmark = pytest.mark.integration


async def open_account(billing: Billing) -> str:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="Jane Roe", email="jane@example.com"), timeout=5
    )
    return patient_id


async def issue(
    billing: Billing, patient_id: str, amount: int = 12_50, **fields: object
) -> Invoice:
    request = CreateInvoiceRequest(
        patient_id=patient_id, amount_minor=amount, currency="EUR", description="Consultation"
    )
    for name, value in fields.items():
        setattr(request, name, value)
    return await billing.stub.CreateInvoice(request, timeout=5)


async def expect_code(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    assert raised.value.code() == code, raised.value.details()
    return raised.value.details() or ""


async def payments_count(billing: Billing) -> int:
    async with billing.database.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(Payment))).scalar_one())


async def test_create_invoice_issues_it_in_integer_minor_units(billing: Billing) -> None:
    patient_id = await open_account(billing)

    invoice = await issue(billing, patient_id, amount=9_007_199_254)

    assert invoice.status == "ISSUED"
    assert (invoice.amount_minor, invoice.currency) == (9_007_199_254, "EUR")
    assert (invoice.patient_id, invoice.description) == (patient_id, "Consultation")
    assert invoice.HasField("issued_at")
    assert uuid.UUID(invoice.invoice_id)
    assert await billing.outbox_types() == ["ACCOUNT_CREATED", "INVOICE_ISSUED"]


async def test_create_invoice_as_draft_publishes_nothing_until_paid(billing: Billing) -> None:
    patient_id = await open_account(billing)

    draft = await issue(billing, patient_id, draft=True)
    paid = await billing.stub.PayInvoice(
        PayInvoiceRequest(invoice_id=draft.invoice_id, idempotency_key="k-draft"), timeout=5
    )

    assert draft.status == "DRAFT"
    assert not draft.HasField("issued_at")
    assert paid.status == "PAID"
    assert await billing.outbox_types() == ["ACCOUNT_CREATED", "INVOICE_PAID"]


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (0, "EUR", "amountMinor"),
        (-5, "EUR", "amountMinor"),
        (10**12 + 1, "EUR", "amountMinor"),
        (100, "eur", "currency"),
        (100, "EURO", "currency"),
        (100, "ABC", "currency"),
        (100, "", "currency"),
    ],
)
async def test_create_invoice_with_bad_money_is_invalid_argument_and_stores_nothing(
    billing: Billing, amount: int, currency: str, field: str
) -> None:
    patient_id = await open_account(billing)
    request = CreateInvoiceRequest(patient_id=patient_id, amount_minor=amount, currency=currency)

    details = await expect_code(
        billing.stub.CreateInvoice(request, timeout=5), grpc.StatusCode.INVALID_ARGUMENT
    )

    assert field in details
    assert await billing.outbox_types() == ["ACCOUNT_CREATED"]


async def test_create_invoice_for_a_patient_without_account_is_not_found(billing: Billing) -> None:
    request = CreateInvoiceRequest(patient_id=str(uuid.uuid4()), amount_minor=100, currency="EUR")
    await expect_code(billing.stub.CreateInvoice(request, timeout=5), grpc.StatusCode.NOT_FOUND)


async def test_list_invoices_pages_newest_first_to_the_end(billing: Billing) -> None:
    patient_id = await open_account(billing)
    created = [await issue(billing, patient_id, amount=100 + n) for n in range(5)]
    other_patient = await open_account(billing)
    await issue(billing, other_patient)

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await billing.stub.ListInvoices(
            ListInvoicesRequest(patient_id=patient_id, page_size=2, page_token=token), timeout=5
        )
        pages += 1
        seen += [invoice.invoice_id for invoice in page.invoices]
        token = page.next_page_token
        if not token:
            break

    assert pages == 3
    assert seen == [invoice.invoice_id for invoice in reversed(created)]


async def test_list_invoices_refuses_a_forged_page_token_and_an_unknown_patient(
    billing: Billing,
) -> None:
    patient_id = await open_account(billing)
    forged = ListInvoicesRequest(patient_id=patient_id, page_token="not-a-token")
    unknown = ListInvoicesRequest(patient_id=str(uuid.uuid4()))

    assert "pageToken" in await expect_code(
        billing.stub.ListInvoices(forged, timeout=5), grpc.StatusCode.INVALID_ARGUMENT
    )
    await expect_code(billing.stub.ListInvoices(unknown, timeout=5), grpc.StatusCode.NOT_FOUND)


async def test_paying_twice_with_the_same_key_records_one_payment(billing: Billing) -> None:
    patient_id = await open_account(billing)
    invoice = await issue(billing, patient_id)
    request = PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="pay-1")

    first = await billing.stub.PayInvoice(request, timeout=5)
    again = await billing.stub.PayInvoice(request, timeout=5)

    assert first.status == "PAID"
    assert first.payment_id
    assert again == first
    assert await payments_count(billing) == 1
    assert await billing.outbox_types() == ["ACCOUNT_CREATED", "INVOICE_ISSUED", "INVOICE_PAID"]


async def test_paying_a_paid_invoice_with_another_key_is_failed_precondition(
    billing: Billing,
) -> None:
    invoice = await issue(billing, await open_account(billing))
    await billing.stub.PayInvoice(
        PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="a"), timeout=5
    )

    await expect_code(
        billing.stub.PayInvoice(
            PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="b"), timeout=5
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert await payments_count(billing) == 1


async def test_a_key_used_for_another_invoice_is_already_exists(billing: Billing) -> None:
    patient_id = await open_account(billing)
    first, second = await issue(billing, patient_id), await issue(billing, patient_id)
    await billing.stub.PayInvoice(
        PayInvoiceRequest(invoice_id=first.invoice_id, idempotency_key="same"), timeout=5
    )

    await expect_code(
        billing.stub.PayInvoice(
            PayInvoiceRequest(invoice_id=second.invoice_id, idempotency_key="same"), timeout=5
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert await payments_count(billing) == 1


async def test_pay_without_key_or_of_an_unknown_invoice_is_refused(billing: Billing) -> None:
    invoice = await issue(billing, await open_account(billing))

    await expect_code(
        billing.stub.PayInvoice(PayInvoiceRequest(invoice_id=invoice.invoice_id), timeout=5),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await expect_code(
        billing.stub.PayInvoice(
            PayInvoiceRequest(invoice_id=str(uuid.uuid4()), idempotency_key="k"), timeout=5
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_code(
        billing.stub.PayInvoice(PayInvoiceRequest(invoice_id="x", idempotency_key="k"), timeout=5),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_void_cancels_an_issued_invoice_once_and_a_void_invoice_cannot_be_paid(
    billing: Billing,
) -> None:
    invoice = await issue(billing, await open_account(billing))
    request = VoidInvoiceRequest(invoice_id=invoice.invoice_id, reason="Billed twice")

    voided = await billing.stub.VoidInvoice(request, timeout=5)
    again = await billing.stub.VoidInvoice(request, timeout=5)

    assert (voided.status, voided.void_reason) == ("VOID", "Billed twice")
    assert voided.HasField("voided_at")
    assert again == voided
    await expect_code(
        billing.stub.PayInvoice(
            PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="late"), timeout=5
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert await billing.outbox_types() == [
        "ACCOUNT_CREATED",
        "INVOICE_ISSUED",
        "INVOICE_VOIDED",
    ]


async def test_voiding_a_paid_invoice_is_failed_precondition(billing: Billing) -> None:
    invoice = await issue(billing, await open_account(billing))
    await billing.stub.PayInvoice(
        PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="p"), timeout=5
    )

    details = await expect_code(
        billing.stub.VoidInvoice(VoidInvoiceRequest(invoice_id=invoice.invoice_id), timeout=5),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "PAID" in details


async def test_void_of_an_unknown_invoice_is_not_found(billing: Billing) -> None:
    await expect_code(
        billing.stub.VoidInvoice(VoidInvoiceRequest(invoice_id=str(uuid.uuid4())), timeout=5),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_billing_events_carry_the_patient_key_and_the_callers_request_id(
    billing: Billing,
) -> None:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="A B", email="a@b.co"),
        timeout=5,
        metadata=(("x-request-id", "trace-me"),),
    )

    async with billing.database.transaction() as session:
        key, headers = (
            await session.execute(select(outbox_events.c.key, outbox_events.c.headers))
        ).one()
    assert key == patient_id
    assert headers["x-request-id"] == "trace-me"
    assert headers["event_type"] == "ACCOUNT_CREATED"
    assert uuid.UUID(headers["event_id"])
