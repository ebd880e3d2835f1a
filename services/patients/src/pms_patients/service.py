"""The patients domain: :class:`PatientService` reads, registers, changes and removes
patient records and reads the audit log; its domain errors carry their own status.

Every change writes, in the caller's one transaction, the record, its event (to the
outbox) and an audit entry: either all of them are stored or none. No method commits:
the transport (or :mod:`pms_patients.registration`) does.

Reads are audited too, and are the hot path: :meth:`PatientService.list` and
:meth:`PatientService.get` take a plain connection (no ORM session) and answer the JSON
itself, each read one statement with its audit entry (autocommit); a page already sent
is sent again from :class:`~pms_patients.page_cache.PageCache` when the database
confirms, in the statement that writes the audit entry, that no patient changed since.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from pms_contracts.vocabulary import PatientEventType
from pms_patients.events import OutboxPatientEvents
from pms_patients.models import AuditEntry, BillingStatus, Patient
from pms_patients.page_cache import CachedPage, PageCache
from pms_patients.repository import (
    AuditQuery,
    AuditRepository,
    AuditStamp,
    DuplicateEmailError,
    IdempotencyClaim,
    PatientQuery,
    PatientReads,
    claimed_request,
    patient_row,
    record_audit,
    register_patient,
    remove_patient,
    save_patient_details,
)
from pms_patients.schemas import (
    AuditLogQuery,
    PageQuery,
    PatientCreate,
    PatientListQuery,
    PatientUpdate,
    patient_json,
    patients_json,
)
from pms_platform.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    UnprocessableError,
)
from pms_platform.security import Principal

Clock = Callable[[], datetime]

# The request that registers a patient tries billing itself first; the retry worker
# leaves the patient alone until then, so that billing is not asked twice at once.
INLINE_BILLING_HEAD_START = timedelta(seconds=5)


class PatientNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("Patient not found")


class DuplicatePatientEmailError(ConflictError):
    def __init__(self) -> None:
        super().__init__(
            "Email address already exists", errors={"email": "Email address already exists"}
        )


class StalePatientError(PreconditionFailedError):
    def __init__(self) -> None:
        super().__init__("The patient was changed since you read it; read it again")


@dataclass(frozen=True)
class IdempotentRequest:
    key: str
    body_hash: str

    @classmethod
    def of(cls, key: str, body: PatientCreate) -> "IdempotentRequest":
        # The same canonical JSON as when dates were strings: stored keys keep matching.
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
        return cls(key, hashlib.sha256(canonical).hexdigest())


@dataclass(frozen=True)
class PatientPage:
    """One page of patients as its JSON array, and how many patients match in all."""

    body: bytes
    total: int


@dataclass(frozen=True)
class PatientRecord:
    """One patient as its JSON object, and its version (the ETag)."""

    body: bytes
    version: int


def utc_now() -> datetime:
    return datetime.now(UTC)


class PatientService:
    """Patient operations on behalf of ``actor``, inside the caller's transaction
    (``session``); built once, in :mod:`pms_patients.app`."""

    def __init__(
        self,
        events: OutboxPatientEvents,
        clock: Clock = utc_now,
        pages: PageCache | None = None,
    ) -> None:
        self._events = events
        self._clock = clock
        self._pages = PageCache() if pages is None else pages

    async def list(
        self, connection: asyncpg.Connection, actor: Principal, query: PatientListQuery
    ) -> PatientPage:
        """One page of patients and the total that match; audited with the query."""
        page = PatientQuery(
            offset=query.offset, limit=query.size, search=query.search or None, sort=query.sort
        )
        description = json.dumps(
            {"search": page.search, "sort": page.sort, "offset": page.offset, "limit": page.limit}
        )
        stamp = AuditStamp.of(actor, "LIST", description)
        reads = PatientReads(connection)
        cached = self._pages.get(page)
        if cached is not None and await reads.audit_if_unchanged(
            cached.revision, cached.patient_ids, stamp
        ):
            return PatientPage(cached.body, cached.total)
        rows = await reads.page(page, stamp)
        body = patients_json(rows.patients)
        if rows.revision is not None:
            self._pages.put(page, CachedPage(rows.revision, rows.total, body, rows.patient_ids))
        return PatientPage(body, rows.total)

    async def get(
        self, connection: asyncpg.Connection, actor: Principal, patient_id: uuid.UUID
    ) -> PatientRecord:
        row = await PatientReads(connection).get(patient_id, AuditStamp.of(actor, "READ"))
        if row is None:
            raise PatientNotFoundError
        return PatientRecord(patient_json(row), int(row["version"]))

    async def create(
        self,
        connection: asyncpg.Connection,
        actor: Principal,
        data: PatientCreate,
        idempotency_key: str | None = None,
    ) -> tuple[Patient, bool]:
        """Insert a patient with its event and audit entry, in one statement; ``True``
        when it is a replay of an earlier request with the same ``idempotency_key``.
        With a key, the caller holds ``connection`` in a transaction (a refusal must
        undo the key's claim); without one, the single statement is its own."""
        patient = Patient(
            id=uuid.uuid4(),
            name=data.name,
            email=data.email,
            address=data.address,
            date_of_birth=data.date_of_birth,
            registered_date=data.registered_date,
            version=1,
            billing_account_id=None,
            billing_status=BillingStatus.PENDING,
            billing_attempts=0,
            billing_next_attempt_at=self._clock() + INLINE_BILLING_HEAD_START,
        )
        request = IdempotentRequest.of(idempotency_key, data) if idempotency_key else None
        claim = IdempotencyClaim(actor.user_id, request.key, request.body_hash) if request else None
        done = await register_patient(
            connection,
            patient,
            self._events.entry(patient, PatientEventType.CREATED),
            AuditStamp.of(actor, "CREATE"),
            claim,
        )
        if request is not None and not done.claimed:
            return await self._replay(connection, actor, request), True
        if done.created_at is None or done.updated_at is None:
            raise DuplicatePatientEmailError
        patient.created_at, patient.updated_at = done.created_at, done.updated_at
        return patient, False

    async def _replay(
        self, connection: asyncpg.Connection, actor: Principal, request: IdempotentRequest
    ) -> Patient:
        first = await claimed_request(connection, actor.user_id, request.key)
        if first is None:  # the key's row went with its patient
            raise PatientNotFoundError
        request_hash, patient_id = first
        if request_hash != request.body_hash:
            raise UnprocessableError(
                "This Idempotency-Key was already used with a different request body"
            )
        patient = await patient_row(connection, patient_id)
        if patient is None:
            raise PatientNotFoundError
        await record_audit(connection, AuditStamp.of(actor, "CREATE_REPLAYED"), [patient.id])
        return patient

    async def update(
        self,
        connection: asyncpg.Connection,
        actor: Principal,
        patient_id: uuid.UUID,
        data: PatientUpdate,
        expected_version: int | None,
    ) -> Patient:
        """Replace the details; ``expected_version`` (the If-Match) must be current. The
        caller holds ``connection`` in a transaction (the row stays locked until it ends)."""
        patient = await _locked_for_change(connection, patient_id, expected_version)
        patient.name = data.name
        patient.email = data.email
        patient.address = data.address
        patient.date_of_birth = data.date_of_birth
        patient.registered_date = data.registered_date or patient.registered_date
        if patient.registered_date < patient.date_of_birth:
            message = "Registered date cannot be before the date of birth"
            raise BadRequestError(message, errors={"registeredDate": message})
        event = self._events.entry(patient, PatientEventType.UPDATED)
        try:
            return await save_patient_details(
                connection, patient, event, AuditStamp.of(actor, "UPDATE")
            )
        except DuplicateEmailError:
            raise DuplicatePatientEmailError from None

    async def delete(
        self,
        connection: asyncpg.Connection,
        actor: Principal,
        patient_id: uuid.UUID,
        expected_version: int | None,
    ) -> None:
        """Remove the patient; the caller holds ``connection`` in a transaction."""
        patient = await _locked_for_change(connection, patient_id, expected_version)
        event = self._events.entry(patient, PatientEventType.DELETED)
        await remove_patient(connection, patient.id, event, AuditStamp.of(actor, "DELETE"))

    async def patient_audit(
        self, session: AsyncSession, patient_id: uuid.UUID, query: PageQuery
    ) -> tuple[Sequence[AuditEntry], int]:
        """One page of a patient's audit trail, newest first, and its total."""
        page = AuditQuery(offset=query.offset, limit=query.size, patient_id=patient_id)
        return await AuditRepository(session).find_page(page)

    async def audit_log(
        self, session: AsyncSession, query: AuditLogQuery
    ) -> tuple[Sequence[AuditEntry], int]:
        """One page of the whole audit log, newest first, filtered, and its total."""
        page = AuditQuery(
            offset=query.offset,
            limit=query.size,
            patient_id=query.patient_id,
            user_id=query.user_id,
            action=query.action,
            since=query.since,
            until=query.until,
        )
        return await AuditRepository(session).find_page(page)


async def _locked_for_change(
    connection: asyncpg.Connection, patient_id: uuid.UUID, expected_version: int | None
) -> Patient:
    patient = await patient_row(connection, patient_id, for_update=True)
    if patient is None:
        raise PatientNotFoundError
    if expected_version is not None and patient.version != expected_version:
        raise StalePatientError
    return patient


def audit_entry(
    actor: Principal,
    action: str,
    patient_ids: list[uuid.UUID],
    query: str | None = None,
    outcome: str = "SUCCESS",
) -> AuditEntry:
    # The same who/what/request id as the hot reads' entries (one mapping of the actor).
    stamp = AuditStamp.of(actor, action, query)
    return AuditEntry(**asdict(stamp), patient_ids=patient_ids, outcome=outcome)
