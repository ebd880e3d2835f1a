"""The patients domain: reading, registering, changing and removing patient records.

Every change writes, in one transaction, the record, its event (to the outbox) and an
audit entry: either all of them are stored or none. Reads are audited too.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pms_patients.billing_enrolment import BillingEnrolment
from pms_patients.events import PatientEventType, record_patient_event
from pms_patients.models import AuditEntry, BillingStatus, IdempotencyKey, Patient
from pms_patients.repository import (
    AuditRepository,
    DuplicateEmailError,
    IdempotencyRepository,
    PatientQuery,
    PatientRepository,
)
from pms_patients.schemas import PatientCreate, PatientUpdate
from pms_platform.db import Database
from pms_platform.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    UnprocessableError,
)
from pms_platform.request_context import current_request_id
from pms_platform.security import Principal

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
        canonical = json.dumps(body.model_dump(), sort_keys=True).encode()
        return cls(key, hashlib.sha256(canonical).hexdigest())


class PatientService:
    """Patient operations on behalf of ``actor``, inside the caller's transaction."""

    def __init__(self, session: AsyncSession, actor: Principal, patient_topic: str) -> None:
        self.session = session
        self.actor = actor
        self.topic = patient_topic
        self.patients = PatientRepository(session)

    async def audit(
        self,
        action: str,
        patient_ids: list[uuid.UUID],
        *,
        query: str | None = None,
        outcome: str = "SUCCESS",
    ) -> None:
        await AuditRepository(self.session).record(
            audit_entry(self.actor, action, patient_ids, query, outcome)
        )

    async def list(self, query: PatientQuery) -> tuple[list[Patient], int]:
        rows, total = await self.patients.find_page(query)
        description = json.dumps(
            {
                "search": query.search,
                "sort": query.sort,
                "offset": query.offset,
                "limit": query.limit,
            }
        )
        await self.audit("LIST", [patient.id for patient in rows], query=description)
        return list(rows), total

    async def get(self, patient_id: uuid.UUID) -> Patient:
        patient = await self.patients.get(patient_id)
        if patient is None:
            raise PatientNotFoundError
        await self.audit("READ", [patient.id])
        return patient

    async def create(
        self, data: PatientCreate, idempotent: IdempotentRequest | None
    ) -> tuple[Patient, bool]:
        """Insert a patient with its event and audit entry; ``True`` when it is a replay."""
        values = data.values()
        assert values.registered_date is not None  # PatientCreate requires it
        patient_id = uuid.uuid4()
        if idempotent is not None:
            first = await IdempotencyRepository(self.session).claim(
                IdempotencyKey(
                    user_id=self.actor.user_id,
                    key=idempotent.key,
                    request_hash=idempotent.body_hash,
                    patient_id=patient_id,
                    status_code=201,
                )
            )
            if first is not None:
                return await self._replay(first, idempotent), True
        patient = Patient(
            id=patient_id,
            name=values.name,
            email=values.email,
            address=values.address,
            date_of_birth=values.date_of_birth,
            registered_date=values.registered_date,
            billing_status=BillingStatus.PENDING,
            billing_next_attempt_at=datetime.now(UTC) + INLINE_BILLING_HEAD_START,
        )
        try:
            await self.patients.add(patient)
        except DuplicateEmailError:
            raise DuplicatePatientEmailError from None
        await record_patient_event(self.session, self.topic, patient, PatientEventType.CREATED)
        await self.audit("CREATE", [patient.id])
        return patient, False

    async def _replay(self, first: IdempotencyKey, request: IdempotentRequest) -> Patient:
        if first.request_hash != request.body_hash:
            raise UnprocessableError(
                "This Idempotency-Key was already used with a different request body"
            )
        patient = await self.patients.get(first.patient_id)
        if patient is None:
            raise PatientNotFoundError
        await self.audit("CREATE_REPLAYED", [patient.id])
        return patient

    async def update(
        self, patient_id: uuid.UUID, data: PatientUpdate, expected_version: int | None
    ) -> Patient:
        values = data.values()
        patient = await self._get_for_change(patient_id, expected_version)
        patient.name = values.name
        patient.email = values.email
        patient.address = values.address
        patient.date_of_birth = values.date_of_birth
        patient.registered_date = values.registered_date or patient.registered_date
        if patient.registered_date < patient.date_of_birth:
            message = "Registered date cannot be before the date of birth"
            raise BadRequestError(message, errors={"registeredDate": message})
        try:
            await self.patients.save(patient)
        except DuplicateEmailError:
            raise DuplicatePatientEmailError from None
        await record_patient_event(self.session, self.topic, patient, PatientEventType.UPDATED)
        await self.audit("UPDATE", [patient.id])
        return patient

    async def delete(self, patient_id: uuid.UUID, expected_version: int | None) -> None:
        patient = await self._get_for_change(patient_id, expected_version)
        await record_patient_event(self.session, self.topic, patient, PatientEventType.DELETED)
        await self.patients.remove(patient)
        await self.audit("DELETE", [patient.id])

    async def _get_for_change(self, patient_id: uuid.UUID, expected_version: int | None) -> Patient:
        patient = await self.patients.get(patient_id, for_update=True)
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
    return AuditEntry(
        user_id=actor.user_id,
        user_email=actor.email,
        user_role=actor.role.value,
        action=action,
        patient_ids=patient_ids,
        query=query,
        outcome=outcome,
        request_id=current_request_id(),
    )


async def register_patient(
    database: Database,
    enrolment: BillingEnrolment,
    actor: Principal,
    patient_topic: str,
    data: PatientCreate,
    idempotent: IdempotentRequest | None,
) -> Patient:
    """Create a patient, then open its billing account.

    The patient, its event and its audit entry are committed first, so nothing that
    happens to billing can lose or half-write them. Billing is then asked once, with a
    deadline; if it does not answer, the patient stays ``PENDING`` and the retry worker
    keeps asking (billing is idempotent per patient, so asking again is safe).
    """
    async with database.transaction() as session:
        patient, replayed = await PatientService(session, actor, patient_topic).create(
            data, idempotent
        )
    if not replayed and patient.billing_status == BillingStatus.PENDING:
        await enrolment.enrol(patient)
    return patient
