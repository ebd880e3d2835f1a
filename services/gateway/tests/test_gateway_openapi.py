"""The gateway's own OpenAPI document (the services' documents are theirs): 400 (not
FastAPI's 422) for validation, and each problem of ``/api-docs/{service}`` with the one
ProblemOut schema."""

from typing import Any

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses


def _document() -> dict[str, Any]:
    return create_app(GatewaySettings()).openapi()


def test_each_route_documents_the_problems_it_may_answer() -> None:
    assert problem_statuses(_document()) == {
        "GET /health/live": set(),
        "GET /health/ready": set(),
        "GET /metrics": set(),
        "GET /api-docs/{service}": {400, 404, 502, 503, 504},
    }


def test_problems_are_documented_as_they_are_answered() -> None:
    assert problem_documentation_faults(_document()) == []
