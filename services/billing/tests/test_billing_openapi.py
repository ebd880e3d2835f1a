"""Billing's OpenAPI document shows every problem each route may answer: 400 (not
FastAPI's 422) for validation, 401 and 403 on every route, 404 and 409 where they occur,
all with the one ProblemOut schema; and it says what a request takes (the required
Idempotency-Key of a payment, the currencies of an invoice)."""

from typing import Any

import pytest
from pydantic import ValidationError

from pms_billing.app import create_app
from pms_billing.schemas import NewInvoice
from pms_billing.settings import BillingSettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses

GUARDED = {400, 401, 403}  # every billing route has a path parameter and needs the role


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("PMS_BILLING_GRPC_PORT", "0")
    monkeypatch.setenv("PMS_BILLING_BACKGROUND_WORKERS", "false")
    return create_app(BillingSettings()).openapi()


def test_each_route_documents_the_problems_it_may_answer(document: dict[str, Any]) -> None:
    assert problem_statuses(document) == {
        "GET /health/live": set(),
        "GET /health/ready": set(),
        "GET /metrics": set(),
        "GET /billing/accounts/{patientId}": GUARDED | {404},
        "GET /billing/accounts/{patientId}/invoices": GUARDED | {404},
        "POST /billing/accounts/{patientId}/invoices": GUARDED | {404, 409},
        "GET /billing/invoices/{invoiceId}": GUARDED | {404},
        "POST /billing/invoices/{invoiceId}/pay": GUARDED | {404, 409},
        "POST /billing/invoices/{invoiceId}/void": GUARDED | {404, 409},
    }


def test_problems_are_documented_as_they_are_answered(document: dict[str, Any]) -> None:
    assert problem_documentation_faults(document) == []
    conflicts = document["paths"]["/billing/invoices/{invoiceId}/pay"]["post"]["responses"]["409"]
    assert "already used to pay another invoice" in conflicts["description"]


def test_a_payment_documents_its_idempotency_key_as_the_required_header_it_is(
    document: dict[str, Any],
) -> None:
    pay = document["paths"]["/billing/invoices/{invoiceId}/pay"]["post"]
    (key,) = (p for p in pay["parameters"] if p["in"] == "header")
    assert (key["name"], key["required"]) == ("Idempotency-Key", True)
    assert key["schema"]["maxLength"] == 255


def test_an_invoice_documents_the_currencies_it_takes(document: dict[str, Any]) -> None:
    currency = document["components"]["schemas"]["NewInvoice"]["properties"]["currency"]
    assert "EUR" in currency["enum"]
    assert "" not in currency["enum"]
    assert "XXX" not in currency["enum"]


def test_a_whole_amount_written_with_a_fraction_is_that_whole_amount() -> None:
    invoice = NewInvoice.model_validate({"amountMinor": 1200.0, "currency": "EUR"})
    assert invoice.amount_minor == 1200
    for refused in (12.5, "1200", True):
        with pytest.raises(ValidationError):
            NewInvoice.model_validate({"amountMinor": refused, "currency": "EUR"})
