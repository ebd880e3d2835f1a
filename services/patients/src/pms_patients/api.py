"""The patients HTTP API: thin routes that parse the request models, call the
:class:`~pms_patients.service.PatientService` (or the registration, for a create) and
shape the answer (ETag, Location, X-Total-Count, Link). No SQL here: the routes on
patients borrow a connection of the database's lean pool (an update or a removal holds
it in a transaction, the reads run one statement with their audit entry, and answer the
JSON the service encoded); the audit log's pages use ``SessionDep``'s session; a failed
request is audited by :mod:`pms_patients.failure_audit`.

The list, the hottest route, has only plain dependencies: a ``yield`` dependency costs
about as much CPU as the whole read (measured), so the route holds the connection itself.
A plain list does not even reach it: :mod:`pms_patients.list_fast_path` answers it with
the same call and the same bytes, and hands the route everything else (``LIST_ROUTE``).
"""

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from pms_patients.failure_audit import AuditedAction, FailureAudit
from pms_patients.models import AuditEntry, Patient
from pms_patients.registration import PatientRegistration
from pms_patients.schemas import (
    AuditEntryOut,
    AuditLogQuery,
    PageQuery,
    PatientCreate,
    PatientListQuery,
    PatientOut,
    PatientUpdate,
)
from pms_patients.service import (
    DuplicatePatientEmailError,
    PatientNotFoundError,
    PatientService,
    StalePatientError,
)
from pms_platform.db import DatabaseDep, SessionDep
from pms_platform.errors import (
    ROLE_REFUSALS,
    BadRequestError,
    ProblemError,
    UnprocessableError,
    problem_responses,
)
from pms_platform.paging import LINK_HEADER, TOTAL_COUNT_HEADER, link_header
from pms_platform.security import Principal, Role, require_roles

router = APIRouter(tags=["patients"])

READER_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})
Reader = Annotated[Principal, Depends(require_roles(*READER_ROLES))]
Writer = Reader
Administrator = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
PatientId = Annotated[uuid.UUID, "the patient's id"]
IfMatch = Annotated[str | None, Header(description="The ETag you read; stale -> 412")]


async def patient_service(request: Request) -> PatientService:
    service: PatientService = request.app.state.patient_service
    return service


async def patient_registration(request: Request) -> PatientRegistration:
    registration: PatientRegistration = request.app.state.registration
    return registration


ServiceDep = Annotated[PatientService, Depends(patient_service)]
RegistrationDep = Annotated[PatientRegistration, Depends(patient_registration)]


async def audit_failures(request: Request, actor: Reader) -> AsyncIterator[AuditedAction]:
    """The route says what the request is about; a domain error is then audited with
    its outcome (in a transaction of its own: the request's one rolls back)."""
    attempt = AuditedAction()
    try:
        yield attempt
    except ProblemError as problem:
        failure_audit: FailureAudit = request.app.state.failure_audit
        await failure_audit.record(actor, attempt, outcome=problem.slug.upper())
        raise


FailureAuditDep = Annotated[AuditedAction, Depends(audit_failures, scope="function")]


def _expected_version(if_match: str | None) -> int | None:
    """``"3"`` or ``W/"3"`` -> 3; ``*`` or no header -> no check; anything else never matches."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() else -1


def _with_etag(response: Response, patient: Patient) -> PatientOut:
    response.headers["ETag"] = f'"{patient.version}"'
    return PatientOut.model_validate(patient, from_attributes=True)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _paged(request: Request, response: Response, query: PageQuery, total: int) -> None:
    """``X-Total-Count`` and the ``Link`` header of one page of a list."""
    response.headers[TOTAL_COUNT_HEADER] = str(total)
    if link := link_header(request.url, query.page, query.size, total):
        response.headers[LINK_HEADER] = link


def _audit_entries(entries: Sequence[AuditEntry]) -> list[AuditEntryOut]:
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]


@router.get(
    "/patients",
    summary="List patients, paged, searched and sorted",
    response_model=list[PatientOut],
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS),
)
async def list_patients(
    request: Request,
    database: DatabaseDep,
    service: ServiceDep,
    actor: Reader,
    query: Annotated[PatientListQuery, Query()],
) -> Response:
    async with database.connection() as connection:
        page = await service.list(connection, actor, query)
    response = _json(page.body)
    _paged(request, response, query, page.total)
    return response


LIST_ROUTE = next(
    route for route in router.routes if getattr(route, "endpoint", None) is list_patients
)
"""The list's route (its ``path`` labels the fast path's metrics)."""


@router.get(
    "/patients/{patient_id}",
    summary="One patient",
    response_model=PatientOut,
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS, PatientNotFoundError),
)
async def get_patient(
    patient_id: PatientId,
    database: DatabaseDep,
    service: ServiceDep,
    actor: Reader,
    failure: FailureAuditDep,
) -> Response:
    failure.action, failure.patient_ids = "READ", [patient_id]
    async with database.connection() as connection:
        patient = await service.get(connection, actor, patient_id)
    response = _json(patient.body)
    response.headers["ETag"] = f'"{patient.version}"'
    return response


@router.post(
    "/patients",
    status_code=201,
    summary="Register a patient",
    responses=problem_responses(
        BadRequestError,
        *ROLE_REFUSALS,
        PatientNotFoundError,
        DuplicatePatientEmailError,
        UnprocessableError,
        descriptions={
            404: "The patient first registered with this Idempotency-Key was removed since",
            422: "This Idempotency-Key was already used with a different request body",
        },
    ),
)
async def create_patient(
    response: Response,
    body: PatientCreate,
    registration: RegistrationDep,
    actor: Writer,
    failure: FailureAuditDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> PatientOut:
    failure.action = "CREATE"
    patient = await registration.register(actor, body, idempotency_key)
    response.headers["Location"] = f"/patients/{patient.id}"
    return _with_etag(response, patient)


@router.put(
    "/patients/{patient_id}",
    summary="Replace a patient's details",
    responses=problem_responses(
        BadRequestError,
        *ROLE_REFUSALS,
        PatientNotFoundError,
        DuplicatePatientEmailError,
        StalePatientError,
    ),
)
async def update_patient(
    response: Response,
    patient_id: PatientId,
    body: PatientUpdate,
    database: DatabaseDep,
    service: ServiceDep,
    actor: Writer,
    failure: FailureAuditDep,
    if_match: IfMatch = None,
) -> PatientOut:
    failure.action, failure.patient_ids = "UPDATE", [patient_id]
    expected_version = _expected_version(if_match)
    async with database.connection() as connection, connection.transaction():
        patient = await service.update(connection, actor, patient_id, body, expected_version)
    return _with_etag(response, patient)


@router.delete(
    "/patients/{patient_id}",
    status_code=204,
    summary="Remove a patient (ADMIN)",
    responses=problem_responses(
        BadRequestError, *ROLE_REFUSALS, PatientNotFoundError, StalePatientError
    ),
)
async def delete_patient(
    patient_id: PatientId,
    database: DatabaseDep,
    service: ServiceDep,
    actor: Administrator,
    failure: FailureAuditDep,
    if_match: IfMatch = None,
) -> Response:
    failure.action, failure.patient_ids = "DELETE", [patient_id]
    async with database.connection() as connection, connection.transaction():
        await service.delete(connection, actor, patient_id, _expected_version(if_match))
    return Response(status_code=204)


@router.get(
    "/patients/{patient_id}/audit",
    summary="Audit trail of one patient (ADMIN)",
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS),
)
async def patient_audit(
    request: Request,
    response: Response,
    patient_id: PatientId,
    session: SessionDep,
    service: ServiceDep,
    _actor: Administrator,
    query: Annotated[PageQuery, Query()],
) -> list[AuditEntryOut]:
    entries, total = await service.patient_audit(session, patient_id, query)
    _paged(request, response, query, total)
    return _audit_entries(entries)


@router.get(
    "/audit",
    summary="The audit log, newest first, with filters (ADMIN)",
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS),
)
async def audit_log(
    request: Request,
    response: Response,
    session: SessionDep,
    service: ServiceDep,
    _actor: Administrator,
    query: Annotated[AuditLogQuery, Query()],
) -> list[AuditEntryOut]:
    entries, total = await service.audit_log(session, query)
    _paged(request, response, query, total)
    return _audit_entries(entries)
