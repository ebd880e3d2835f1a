"""Who may read the reports (ANALYST and ADMIN), and the 400s for bad parameters."""

from collections.abc import AsyncIterator

import pytest

from pms_platform.security import Role
from pms_testing.tokens import bearer

from .conftest import Analytics, AnalyticsFactory

pytestmark = pytest.mark.integration

ENDPOINTS = [
    "/analytics/summary",
    "/analytics/registrations",
    "/analytics/demographics",
    "/analytics/revenue",
]


@pytest.fixture
async def reports_only(analytics_factory: AnalyticsFactory) -> AsyncIterator[Analytics]:
    async with analytics_factory(background_workers=False) as running:
        yield running


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("role", "status"), [(Role.ANALYST, 200), (Role.ADMIN, 200), (Role.CLINICIAN, 403)]
)
async def test_analysts_and_admins_may_read_every_report_and_clinicians_may_not(
    reports_only: Analytics, path: str, role: Role, status: int
) -> None:
    response = await reports_only.http.get(path, headers=reports_only.auth(role))

    assert response.status_code == status
    if status == 403:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_every_report_needs_a_valid_token(reports_only: Analytics, path: str) -> None:
    anonymous = await reports_only.http.get(path)
    forged = await reports_only.http.get(path, headers=bearer("not.a.token"))

    for response in (anonymous, forged):
        assert response.status_code == 401
        assert response.json()["status"] == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("path", "params", "errors"),
    [
        (
            "/analytics/registrations",
            {"from": "2026-13-01", "to": "yesterday"},
            {
                "from": "Must be a valid calendar date",
                "to": "Must be a date in the form YYYY-MM-DD",
            },
        ),
        (
            "/analytics/registrations",
            {"from": "2026-03-02", "to": "2026-03-01"},
            {"from": "Must not be after to"},
        ),
        (
            "/analytics/registrations",
            {"from": "2025-01-01", "to": "2026-01-02"},
            {"to": "The range is too long for day granularity: at most 366 days"},
        ),
        (
            "/analytics/registrations",
            {"granularity": "year", "by": "birthday"},
            {
                "granularity": "Must be one of day, week, month",
                "by": "Must be one of registered, event",
            },
        ),
        (
            "/analytics/revenue",
            {"from": "2020-01-01", "to": "2030-12-31", "granularity": "month"},
            {"to": "The range is too long for month granularity: at most 120 months"},
        ),
        (
            "/analytics/revenue",
            {"currency": "pounds", "granularity": "fortnight"},
            {
                "currency": "Must be an ISO 4217 code in capitals, such as GBP",
                "granularity": "Must be one of day, week, month",
            },
        ),
    ],
)
async def test_bad_parameters_are_a_400_problem_naming_each_field(
    reports_only: Analytics, path: str, params: dict[str, str], errors: dict[str, str]
) -> None:
    response = await reports_only.http.get(path, params=params, headers=reports_only.auth())

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://pms.example/problems/validation-error"
    assert body["errors"] == errors
