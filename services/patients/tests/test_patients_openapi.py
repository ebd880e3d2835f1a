"""The patients OpenAPI document shows every problem each route may answer: 400 (not
FastAPI's 422) for validation, 401 and 403 everywhere, and 404, 409, 412 and the one
real 422 (an Idempotency-Key reused with another body) where they occur, all with the
one ProblemOut schema; and it says what a request takes (required fields, RFC 3339
times)."""

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pms_patients.app import create_app
from pms_patients.schemas import AuditLogQuery
from pms_patients.settings import PatientsSettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses

GUARDED = {400, 401, 403}  # every patients route has inputs and needs a role


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("PMS_PATIENTS_DATABASE_URL", "postgresql+asyncpg://x:y@127.0.0.1:1/none")
    monkeypatch.setenv("PMS_PATIENTS_SEED_DEMO_PATIENTS", "false")
    monkeypatch.setenv("PMS_PATIENTS_BACKGROUND_WORKERS", "false")
    return create_app(PatientsSettings()).openapi()


def test_each_route_documents_the_problems_it_may_answer(document: dict[str, Any]) -> None:
    assert problem_statuses(document) == {
        "GET /health/live": set(),
        "GET /health/ready": set(),
        "GET /metrics": set(),
        "GET /patients": GUARDED,
        "POST /patients": GUARDED | {404, 409, 422},
        "GET /patients/{patient_id}": GUARDED | {404},
        "PUT /patients/{patient_id}": GUARDED | {404, 409, 412},
        "DELETE /patients/{patient_id}": GUARDED | {404, 412},
        "GET /patients/{patient_id}/audit": GUARDED,
        "GET /audit": GUARDED,
    }


def test_problems_are_documented_as_they_are_answered(document: dict[str, Any]) -> None:
    assert problem_documentation_faults(document) == []
    reused_key = document["paths"]["/patients"]["post"]["responses"]["422"]
    assert "Idempotency-Key" in reused_key["description"]


def test_a_patient_documents_its_required_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["PatientCreate"]["required"]) == {
        "name",
        "email",
        "address",
        "dateOfBirth",
        "registeredDate",
    }
    assert "registeredDate" not in schemas["PatientUpdate"]["required"]
    assert schemas["PatientCreate"]["properties"]["name"]["maxLength"] == 100


@pytest.mark.parametrize("moment", ["0.5", "1700000000", "2026-01-31", "2026-01-31T09:00:00"])
def test_the_audit_log_takes_only_times_with_their_offset(moment: str) -> None:
    with pytest.raises(ValidationError):
        AuditLogQuery.model_validate({"since": moment})
    query = AuditLogQuery.model_validate({"until": "2026-01-31T09:00:00+01:00"})
    assert query.until is not None
    assert query.until.utcoffset() == timedelta(hours=1)
