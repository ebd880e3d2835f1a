"""A patient's whole life, only through the gateway: registration, billing, analytics,
update, removal."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from pms_testing.polling import eventually

Headers = dict[str, dict[str, str]]
# The platform is asynchronous between services (events): a few seconds' delay is
# expected, not a hang.
SECONDS, INTERVAL = 15.0, 0.25


async def test_register_bill_report_update_and_remove_a_patient(
    gateway: httpx.AsyncClient, headers_of: Headers
) -> None:
    clinician, analyst, admin = headers_of["CLINICIAN"], headers_of["ANALYST"], headers_of["ADMIN"]
    today = datetime.now(UTC).date().isoformat()
    before = (await gateway.get("/api/analytics/summary", headers=analyst)).json()

    # Register and read back.
    unique = uuid.uuid4().hex[:10]
    body = {
        "name": "Grace Hopper",
        "email": f"grace.{unique}@example.com",
        "address": "1 Navy Yard, Arlington",
        "dateOfBirth": "1976-12-09",
        "registeredDate": today,
    }
    created = await gateway.post("/api/patients", json=body, headers=clinician)
    assert created.status_code == 201, created.text
    patient = created.json()
    assert patient["billingStatus"] == "ACTIVE"
    read = await gateway.get(f"/api/patients/{patient['id']}", headers=clinician)
    assert read.json()["email"] == body["email"]

    # Its billing account, an invoice issued and paid.
    account = await gateway.get(f"/api/billing/accounts/{patient['id']}", headers=clinician)
    assert account.status_code == 200
    assert account.json()["status"] == "ACTIVE"
    invoice = await gateway.post(
        f"/api/billing/accounts/{patient['id']}/invoices",
        json={"amountMinor": 12500, "currency": "EUR", "description": "Consultation"},
        headers=clinician,
    )
    assert invoice.status_code == 201, invoice.text
    paid = await gateway.post(
        f"/api/billing/invoices/{invoice.json()['id']}/pay",
        headers={**clinician, "Idempotency-Key": f"e2e-{unique}"},
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "PAID"

    # Analytics reflects it within a few seconds.
    async def summary_counts_it() -> dict[str, Any] | None:
        now = (await gateway.get("/api/analytics/summary", headers=analyst)).json()
        grown = (
            now["patients"]["created"] > before["patients"]["created"]
            and now["billing"]["invoicesPaid"] > before["billing"]["invoicesPaid"]
        )
        return now if grown else None

    await eventually(
        summary_counts_it,
        SECONDS,
        interval=INTERVAL,
        description="analytics counting the patient and the payment",
    )
    registrations = await gateway.get(
        "/api/analytics/registrations",
        params={"from": today, "to": today, "granularity": "day"},
        headers=analyst,
    )
    assert registrations.status_code == 200
    assert registrations.json()["total"] >= 1
    revenue = await gateway.get(
        "/api/analytics/revenue",
        params={"from": today, "to": today, "granularity": "day", "currency": "EUR"},
        headers=admin,
    )
    assert revenue.status_code == 200
    [euros] = revenue.json()["currencies"]
    assert euros["paidMinor"] >= 12500

    # Update, then remove: 404 afterwards.
    changed = {**body, "address": "2 Harvard Yard, Cambridge"}
    updated = await gateway.put(f"/api/patients/{patient['id']}", json=changed, headers=clinician)
    assert updated.status_code == 200
    assert updated.json()["address"] == "2 Harvard Yard, Cambridge"
    removed = await gateway.delete(f"/api/patients/{patient['id']}", headers=admin)
    assert removed.status_code == 204
    gone = await gateway.get(f"/api/patients/{patient['id']}", headers=admin)
    assert gone.status_code == 404

    # Billing closes the account once it has seen the deletion event.
    async def account_closed() -> bool:
        response = await gateway.get(f"/api/billing/accounts/{patient['id']}", headers=admin)
        return bool(response.json()["status"] == "CLOSED")

    await eventually(
        account_closed,
        SECONDS,
        interval=INTERVAL,
        description="billing closing the account of the removed patient",
    )
