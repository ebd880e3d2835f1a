"""The patients HTTP API: thin routes over :mod:`pms_patients.service`."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from pms_patients.billing_enrolment import BillingEnrolment
from pms_patients.models import Patient
from pms_patients.paging import link_header
from pms_patients.repository import AuditQuery, AuditRepository, PatientQuery
from pms_patients.schemas import AuditEntryOut, PatientCreate, PatientOut, PatientUpdate
from pms_patients.service import (
    IdempotentRequest,
    PatientService,
    audit_entry,
    register_patient,
)
from pms_platform.db import Database, SessionDep, database_of
from pms_platform.errors import ProblemError
from pms_platform.security import Principal, Role, require_roles

router = APIRouter(tags=["patients"])

Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.CLINICIAN))]
Writer = Reader
Administrator = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
DatabaseDep = Annotated[Database, Depends(database_of)]
SortKey = Literal[
    "name",
    "-name",
    "email",
    "-email",
    "dateOfBirth",
    "-dateOfBirth",
    "registeredDate",
    "-registeredDate",
]
Page = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")]
Size = Annotated[int, Query(ge=1, le=500, description="Rows per page, at most 500")]
PatientId = Annotated[uuid.UUID, "the patient's id"]
IfMatch = Annotated[str | None, Header(description="The ETag you read; stale -> 412")]


@dataclass
class FailureAudit:
    """What the request is about, so that a refused or failed request is audited too."""

    action: str = ""
    patient_ids: list[uuid.UUID] = field(default_factory=list)


async def audit_failures(
    request: Request, actor: Reader, database: DatabaseDep
) -> AsyncIterator[FailureAudit]:
    """Record a failed attempt in its own transaction (the request's one rolls back)."""
    note = FailureAudit()
    try:
        yield note
    except ProblemError as problem:
        if note.action:
            entry = audit_entry(actor, note.action, note.patient_ids, outcome=problem.slug.upper())
            async with database.transaction() as session:
                session.add(entry)
        raise


FailureAuditDep = Annotated[FailureAudit, Depends(audit_failures, scope="function")]


def _service(request: Request, session: AsyncSession, actor: Principal) -> PatientService:
    return PatientService(session, actor, request.app.state.settings.patient_topic)


def _expected_version(if_match: str | None) -> int | None:
    """``"3"`` or ``W/"3"`` -> 3; ``*`` or no header -> no check; anything else never matches."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() else -1


def _with_etag(response: Response, patient: Patient) -> PatientOut:
    response.headers["ETag"] = f'"{patient.version}"'
    return PatientOut.model_validate(patient, from_attributes=True)


@router.get("/patients", summary="List patients, paged, searched and sorted")
async def list_patients(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: Reader,
    page: Page = 1,
    size: Size = 50,
    search: Annotated[str | None, Query(max_length=100)] = None,
    sort: SortKey = "name",
) -> list[PatientOut]:
    query = PatientQuery(offset=(page - 1) * size, limit=size, search=search or None, sort=sort)
    patients, total = await _service(request, session, actor).list(query)
    response.headers["X-Total-Count"] = str(total)
    if link := link_header(request.url, page, size, total):
        response.headers["Link"] = link
    return [PatientOut.model_validate(patient, from_attributes=True) for patient in patients]


@router.get("/patients/{patient_id}", summary="One patient", responses={404: {}})
async def get_patient(
    request: Request,
    response: Response,
    patient_id: PatientId,
    session: SessionDep,
    actor: Reader,
    failure: FailureAuditDep,
) -> PatientOut:
    failure.action, failure.patient_ids = "READ", [patient_id]
    patient = await _service(request, session, actor).get(patient_id)
    return _with_etag(response, patient)


@router.post(
    "/patients", status_code=201, summary="Register a patient", responses={409: {}, 422: {}}
)
async def create_patient(
    request: Request,
    response: Response,
    body: PatientCreate,
    database: DatabaseDep,
    actor: Writer,
    failure: FailureAuditDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> PatientOut:
    failure.action = "CREATE"
    enrolment: BillingEnrolment = request.app.state.billing_enrolment
    idempotent = IdempotentRequest.of(idempotency_key, body) if idempotency_key else None
    patient = await register_patient(
        database, enrolment, actor, request.app.state.settings.patient_topic, body, idempotent
    )
    response.headers["Location"] = f"/patients/{patient.id}"
    return _with_etag(response, patient)


@router.put("/patients/{patient_id}", summary="Replace a patient's details")
async def update_patient(
    request: Request,
    response: Response,
    patient_id: PatientId,
    body: PatientUpdate,
    session: SessionDep,
    actor: Writer,
    failure: FailureAuditDep,
    if_match: IfMatch = None,
) -> PatientOut:
    failure.action, failure.patient_ids = "UPDATE", [patient_id]
    service = _service(request, session, actor)
    patient = await service.update(patient_id, body, _expected_version(if_match))
    return _with_etag(response, patient)


@router.delete("/patients/{patient_id}", status_code=204, summary="Remove a patient (ADMIN)")
async def delete_patient(
    request: Request,
    patient_id: PatientId,
    session: SessionDep,
    actor: Administrator,
    failure: FailureAuditDep,
    if_match: IfMatch = None,
) -> Response:
    failure.action, failure.patient_ids = "DELETE", [patient_id]
    await _service(request, session, actor).delete(patient_id, _expected_version(if_match))
    return Response(status_code=204)


async def _audit_page(
    request: Request,
    response: Response,
    session: AsyncSession,
    query: AuditQuery,
    size: int,
    page: int,
) -> list[AuditEntryOut]:
    entries, total = await AuditRepository(session).find_page(query)
    response.headers["X-Total-Count"] = str(total)
    if link := link_header(request.url, page, size, total):
        response.headers["Link"] = link
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]


@router.get("/patients/{patient_id}/audit", summary="Audit trail of one patient (ADMIN)")
async def patient_audit(
    request: Request,
    response: Response,
    patient_id: PatientId,
    session: SessionDep,
    _actor: Administrator,
    page: Page = 1,
    size: Size = 50,
) -> list[AuditEntryOut]:
    query = AuditQuery(offset=(page - 1) * size, limit=size, patient_id=patient_id)
    return await _audit_page(request, response, session, query, size, page)


@router.get("/audit", summary="The audit log, newest first, with filters (ADMIN)")
async def audit_log(
    request: Request,
    response: Response,
    session: SessionDep,
    _actor: Administrator,
    page: Page = 1,
    size: Size = 50,
    user_id: Annotated[str | None, Query(alias="userId", max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntryOut]:
    query = AuditQuery(
        offset=(page - 1) * size,
        limit=size,
        user_id=user_id,
        action=action,
        since=since,
        until=until,
    )
    return await _audit_page(request, response, session, query, size, page)
