"""The REST view for the gateway: roles, camelCase JSON, problem+json errors."""

import uuid

import pytest

from pms_contracts.billing_service_pb2 import BillingRequest
from pms_platform.security import Role
from pms_testing.tokens import bearer

from .conftest import Billing

pytestmark = pytest.mark.integration


async def open_account(billing: Billing) -> str:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="Jane Roe", email="jane@example.com"), timeout=5
    )
    return patient_id


async def create_invoice(billing: Billing, patient_id: str, **body: object) -> dict[str, object]:
    response = await billing.http.post(
        f"/billing/accounts/{patient_id}/invoices",
        json={"amountMinor": 4_200, "currency": "USD", "description": "X-ray", **body},
        headers=billing.auth(),
    )
    assert response.status_code == 201, response.text
    invoice: dict[str, object] = response.json()
    return invoice


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
async def test_admins_and_clinicians_read_an_account_in_camel_case(
    billing: Billing, role: Role
) -> None:
    patient_id = await open_account(billing)

    response = await billing.http.get(f"/billing/accounts/{patient_id}", headers=billing.auth(role))

    assert response.status_code == 200
    body = response.json()
    assert body["patientId"] == patient_id
    assert (body["status"], body["name"], body["email"]) == (
        "ACTIVE",
        "Jane Roe",
        "jane@example.com",
    )
    assert {"id", "createdAt", "closedAt"} <= set(body)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
async def test_admins_and_clinicians_bill_pay_and_void(billing: Billing, role: Role) -> None:
    patient_id = await open_account(billing)
    headers = billing.auth(role)

    created = await billing.http.post(
        f"/billing/accounts/{patient_id}/invoices",
        json={"amountMinor": 4_200, "currency": "USD"},
        headers=headers,
    )
    invoice_id = created.json()["id"]
    paid = await billing.http.post(
        f"/billing/invoices/{invoice_id}/pay", headers={**headers, "Idempotency-Key": "k1"}
    )
    other = (
        await billing.http.post(
            f"/billing/accounts/{patient_id}/invoices",
            json={"amountMinor": 1, "currency": "JPY"},
            headers=headers,
        )
    ).json()
    voided = await billing.http.post(
        f"/billing/invoices/{other['id']}/void", json={"reason": "Mistake"}, headers=headers
    )
    listed = await billing.http.get(f"/billing/accounts/{patient_id}/invoices", headers=headers)

    assert created.status_code == 201
    assert created.headers["location"] == f"/billing/invoices/{invoice_id}"
    assert (created.json()["status"], created.json()["amountMinor"]) == ("ISSUED", 4_200)
    assert paid.status_code == 200
    assert paid.json()["status"] == "PAID"
    assert paid.json()["paymentId"]
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["voidReason"]) == ("VOID", "Mistake")
    assert listed.status_code == 200
    assert [invoice["status"] for invoice in listed.json()["invoices"]] == ["VOID", "PAID"]
    assert listed.json()["nextPageToken"] is None


async def test_analysts_are_forbidden_everywhere(billing: Billing) -> None:
    patient_id = await open_account(billing)
    invoice_id = (await create_invoice(billing, patient_id))["id"]
    analyst = billing.auth(Role.ANALYST)

    answers = [
        await billing.http.get(f"/billing/accounts/{patient_id}", headers=analyst),
        await billing.http.get(f"/billing/accounts/{patient_id}/invoices", headers=analyst),
        await billing.http.post(
            f"/billing/accounts/{patient_id}/invoices",
            json={"amountMinor": 1, "currency": "EUR"},
            headers=analyst,
        ),
        await billing.http.post(
            f"/billing/invoices/{invoice_id}/pay", headers={**analyst, "Idempotency-Key": "x"}
        ),
        await billing.http.post(f"/billing/invoices/{invoice_id}/void", headers=analyst),
    ]

    assert [answer.status_code for answer in answers] == [403] * 5
    assert answers[0].headers["content-type"] == "application/problem+json"
    status = await billing.http.get(f"/billing/invoices/{invoice_id}", headers=billing.auth())
    assert status.json()["status"] == "ISSUED"


async def test_no_token_or_a_bad_token_is_401_with_a_bearer_challenge(billing: Billing) -> None:
    patient_id = await open_account(billing)

    anonymous = await billing.http.get(f"/billing/accounts/{patient_id}")
    forged = await billing.http.get(
        f"/billing/accounts/{patient_id}", headers=bearer("not.a.token")
    )

    for answer in (anonymous, forged):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_unknown_account_and_invoice_are_404_problems(billing: Billing) -> None:
    admin = billing.auth()
    unknown = uuid.uuid4()

    answers = [
        await billing.http.get(f"/billing/accounts/{unknown}", headers=admin),
        await billing.http.get(f"/billing/accounts/{unknown}/invoices", headers=admin),
        await billing.http.post(
            f"/billing/accounts/{unknown}/invoices",
            json={"amountMinor": 1, "currency": "EUR"},
            headers=admin,
        ),
        await billing.http.post(
            f"/billing/invoices/{unknown}/pay", headers={**admin, "Idempotency-Key": "k"}
        ),
        await billing.http.post(f"/billing/invoices/{unknown}/void", headers=admin),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)


async def test_bad_input_is_400_with_field_messages_and_stores_nothing(billing: Billing) -> None:
    patient_id = await open_account(billing)
    admin = billing.auth()

    fractional = await billing.http.post(
        f"/billing/accounts/{patient_id}/invoices",
        json={"amountMinor": 10.5, "currency": "EUR"},
        headers=admin,
    )
    bad_currency = await billing.http.post(
        f"/billing/accounts/{patient_id}/invoices",
        json={"amountMinor": 10, "currency": "XYZ"},
        headers=admin,
    )
    bad_id = await billing.http.get("/billing/accounts/not-a-uuid", headers=admin)
    listed = await billing.http.get(f"/billing/accounts/{patient_id}/invoices", headers=admin)

    assert fractional.status_code == 400
    assert "amountMinor" in fractional.json()["errors"]
    assert bad_currency.status_code == 400
    assert "currency" in bad_currency.json()["errors"]
    assert bad_id.status_code == 400
    assert "patientId" in bad_id.json()["errors"]
    assert listed.json()["invoices"] == []


async def test_pay_needs_an_idempotency_key_and_replays_with_the_same_one(
    billing: Billing,
) -> None:
    invoice_id = (await create_invoice(billing, await open_account(billing)))["id"]
    admin = billing.auth()

    missing = await billing.http.post(f"/billing/invoices/{invoice_id}/pay", headers=admin)
    first = await billing.http.post(
        f"/billing/invoices/{invoice_id}/pay", headers={**admin, "Idempotency-Key": "once"}
    )
    replay = await billing.http.post(
        f"/billing/invoices/{invoice_id}/pay", headers={**admin, "Idempotency-Key": "once"}
    )

    assert missing.status_code == 400
    assert "Idempotency-Key" in missing.json()["errors"]
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()


async def test_illegal_transitions_are_409_conflicts(billing: Billing) -> None:
    patient_id = await open_account(billing)
    admin = billing.auth()
    paid_id = (await create_invoice(billing, patient_id))["id"]
    await billing.http.post(
        f"/billing/invoices/{paid_id}/pay", headers={**admin, "Idempotency-Key": "p"}
    )
    void_id = (await create_invoice(billing, patient_id))["id"]
    await billing.http.post(f"/billing/invoices/{void_id}/void", headers=admin)

    void_paid = await billing.http.post(f"/billing/invoices/{paid_id}/void", headers=admin)
    pay_void = await billing.http.post(
        f"/billing/invoices/{void_id}/pay", headers={**admin, "Idempotency-Key": "q"}
    )

    assert void_paid.status_code == pay_void.status_code == 409
    assert void_paid.json()["type"].endswith("/invoice-state")
    assert void_paid.json()["detail"] == "A PAID invoice cannot be voided"
    assert pay_void.json()["detail"] == "A VOID invoice cannot be paid"


async def test_the_openapi_document_describes_the_billing_routes(billing: Billing) -> None:
    document = (await billing.http.get("/openapi.json")).json()

    assert {
        "/billing/accounts/{patientId}",
        "/billing/accounts/{patientId}/invoices",
        "/billing/invoices/{invoiceId}",
        "/billing/invoices/{invoiceId}/pay",
        "/billing/invoices/{invoiceId}/void",
    } <= set(document["paths"])
