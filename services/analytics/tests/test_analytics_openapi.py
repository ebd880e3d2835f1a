"""Analytics' OpenAPI document shows every problem each report may answer: 401 and 403
everywhere (ANALYST and ADMIN only), 400 (not FastAPI's 422) where there are parameters,
all with the one ProblemOut schema."""

from typing import Any

import pytest

from pms_analytics.app import create_app
from pms_analytics.settings import AnalyticsSettings
from pms_testing.openapi import problem_documentation_faults, problem_statuses

GUARDED = {401, 403}


@pytest.fixture
def document() -> dict[str, Any]:
    return create_app(AnalyticsSettings(background_workers=False)).openapi()


def test_each_report_documents_the_problems_it_may_answer(document: dict[str, Any]) -> None:
    assert problem_statuses(document) == {
        "GET /health/live": set(),
        "GET /health/ready": set(),
        "GET /metrics": set(),
        "GET /analytics/summary": GUARDED,
        "GET /analytics/registrations": GUARDED | {400},
        "GET /analytics/demographics": GUARDED,
        "GET /analytics/revenue": GUARDED | {400},
    }


def test_problems_are_documented_as_they_are_answered(document: dict[str, Any]) -> None:
    assert problem_documentation_faults(document) == []
