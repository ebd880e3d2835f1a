"""Billing's OpenAPI document shows every problem each route may answer: 400 (not
FastAPI's 422) for validation, 401 and 403 on every route, 404 and 409 where they occur,
all with the one ProblemOut schema."""

from typing import Any

import pytest

from pms_billing.app import create_app
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
