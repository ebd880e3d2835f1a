"""The analytics HTTP API (``/api/analytics/**`` at the gateway): thin routes over the
reports of :mod:`pms_analytics.service`. ANALYST and ADMIN only.

Dates are ``YYYY-MM-DD`` (UTC days), both ends included; parameters are checked by
:mod:`pms_analytics.schemas`, so a bad one is a 400 naming its field.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pms_analytics import service
from pms_analytics.schemas import (
    DemographicsOut,
    ProblemOut,
    RegistrationsOut,
    RevenueOut,
    SummaryOut,
    parse_registrations_query,
    parse_revenue_query,
)
from pms_platform.db import SessionDep
from pms_platform.security import Role, require_roles


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ProblemOut, "content": {"application/problem+json": {}}}
        for status in statuses
    }


router = APIRouter(
    prefix="/analytics",
    tags=["analytics"],
    # Checked before the parameters, so an anonymous caller learns nothing.
    dependencies=[Depends(require_roles(Role.ANALYST, Role.ADMIN))],
    responses=_problems(401, 403),
)

_DATE = {"pattern": r"^\d{4}-\d{2}-\d{2}$", "examples": ["2026-01-31"]}
From = Annotated[
    str | None,
    Query(
        alias="from",
        description="First day (YYYY-MM-DD); default: 30 days, 12 weeks or 12 months back",
        json_schema_extra=_DATE,
    ),
]
To = Annotated[
    str | None, Query(description="Last day (YYYY-MM-DD); default: today", json_schema_extra=_DATE)
]
GranularityParam = Annotated[
    str | None,
    Query(
        description="Bucket size: day (at most 366), week (ISO, at most 157) or month "
        "(at most 120); default day",
        json_schema_extra={"enum": ["day", "week", "month"]},
    ),
]


@router.get("/summary", summary="Running totals of patients, accounts and invoices")
async def read_summary(session: SessionDep) -> SummaryOut:
    return await service.summary(session)


@router.get(
    "/registrations",
    summary="Patients registered per day, week or month",
    responses=_problems(400),
)
async def read_registrations(
    session: SessionDep,
    first: From = None,
    to: To = None,
    granularity: GranularityParam = None,
    by: Annotated[
        str | None,
        Query(
            description="Count by the patient's registered date (default) or by the date "
            "of the creation event",
            json_schema_extra={"enum": ["registered", "event"]},
        ),
    ] = None,
) -> RegistrationsOut:
    query = parse_registrations_query(first, to, granularity, by, service.today_utc())
    return await service.registrations(session, query)


@router.get("/demographics", summary="Active patients by age band, as of today")
async def read_demographics(session: SessionDep) -> DemographicsOut:
    return await service.demographics(session, service.today_utc())


@router.get(
    "/revenue",
    summary="Invoices issued, paid and voided per currency and period",
    responses=_problems(400),
)
async def read_revenue(
    session: SessionDep,
    first: From = None,
    to: To = None,
    granularity: GranularityParam = None,
    currency: Annotated[
        str | None, Query(description="Only this ISO 4217 currency (e.g. GBP)")
    ] = None,
) -> RevenueOut:
    query = parse_revenue_query(first, to, granularity, currency, service.today_utc())
    return await service.revenue(session, query)
