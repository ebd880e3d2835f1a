"""The analytics HTTP API (``/api/analytics/**`` at the gateway): thin routes over the
reports of ``AnalyticsService`` (``app.state.analytics_service``), one transaction per
request (the summary, which dashboards poll, on a plain connection). ANALYST and ADMIN only.

Dates are ``YYYY-MM-DD`` (UTC days), both ends included; the parameters are the query
models of :mod:`pms_analytics.schemas`, so a bad one is a 400 naming its field.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pms_analytics.schemas import (
    DemographicsOut,
    RegistrationsOut,
    RegistrationsParams,
    RevenueOut,
    RevenueParams,
    SummaryOut,
)
from pms_analytics.service import AnalyticsService
from pms_platform.db import DatabaseDep, SessionDep
from pms_platform.errors import ROLE_REFUSALS, BadRequestError, problem_responses
from pms_platform.security import Role, require_roles

router = APIRouter(
    prefix="/analytics",
    tags=["analytics"],
    # Checked before the parameters, so an anonymous caller learns nothing.
    dependencies=[Depends(require_roles(Role.ANALYST, Role.ADMIN))],
    responses=problem_responses(*ROLE_REFUSALS),
)


async def analytics_service(request: Request) -> AnalyticsService:
    service: AnalyticsService = request.app.state.analytics_service
    return service


ServiceDep = Annotated[AnalyticsService, Depends(analytics_service)]


@router.get("/summary", summary="Running totals of patients, accounts and invoices")
async def read_summary(database: DatabaseDep, service: ServiceDep) -> SummaryOut:
    async with database.connection() as connection:
        return await service.summary(connection)


@router.get(
    "/registrations",
    summary="Patients registered per day, week or month",
    responses=problem_responses(BadRequestError),
)
async def read_registrations(
    session: SessionDep, service: ServiceDep, params: Annotated[RegistrationsParams, Query()]
) -> RegistrationsOut:
    return await service.registrations(session, params)


@router.get("/demographics", summary="Active patients by age band, as of today")
async def read_demographics(session: SessionDep, service: ServiceDep) -> DemographicsOut:
    return await service.demographics(session)


@router.get(
    "/revenue",
    summary="Invoices issued, paid and voided per currency and period",
    responses=problem_responses(BadRequestError),
)
async def read_revenue(
    session: SessionDep, service: ServiceDep, params: Annotated[RevenueParams, Query()]
) -> RevenueOut:
    return await service.revenue(session, params)
