"""Registering patients: the one place a patient is created, with its billing account.

:class:`PatientRegistration` takes the :class:`~pms_platform.db.Database` because it
owns its transactions, in this order: the patient, its event and its audit entry are
committed first, so nothing that happens to billing can lose or half-write them; then
billing is asked once over gRPC, with a deadline, and the account is recorded by a
second statement (its own transaction). If billing does not answer, the patient stays
``PENDING`` and the retry worker (:meth:`PatientRegistration.run_until`) keeps asking,
with backoff. While no patient waits, the worker only looks now and then (backing off to
``idle_look_max_seconds``, for patients another instance left): one that this process
leaves ``PENDING`` wakes it.

Safe to repeat: billing's ``CreateBillingAccount`` is idempotent per patient id, so a
retry after a lost answer returns the same account instead of a second one.
"""

import asyncio
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import timedelta

from pms_patients.grpc_client import BillingClient, BillingUnavailableError
from pms_patients.models import BillingStatus, Patient
from pms_patients.repository import PatientRepository, mark_billing_active_now, patient_count
from pms_patients.schemas import PatientCreate
from pms_patients.service import PatientService
from pms_platform.backoff import Backoff
from pms_platform.db import Database
from pms_platform.logging import get_logger
from pms_platform.security import Principal

_log = get_logger("pms.patients.billing")


class PatientRegistration:
    def __init__(
        self,
        database: Database,
        service: PatientService,
        billing: BillingClient,
        *,
        retry_interval_seconds: float = 1.0,
        max_delay_seconds: float = 60.0,
        batch_size: int = 20,
        idle_look_max_seconds: float = 30.0,
    ) -> None:
        self.database = database
        self.service = service
        self.billing = billing
        self.retry_interval = retry_interval_seconds
        self.max_delay = max_delay_seconds
        self.batch_size = batch_size
        self.idle_look_max = max(idle_look_max_seconds, retry_interval_seconds)
        self._left_pending = asyncio.Event()

    async def register(
        self, actor: Principal, data: PatientCreate, idempotency_key: str | None = None
    ) -> Patient:
        """Create a patient (committed), then open its billing account.

        A replay of an earlier request with the same ``idempotency_key`` returns the
        patient of the first one and asks billing nothing. The request tries billing
        itself first; the retry worker leaves the patient alone until then
        (``INLINE_BILLING_HEAD_START``), so that billing is not asked twice at once.
        """
        async with self.database.connection() as connection:
            # Without a key the create is one statement, which PostgreSQL runs as a
            # transaction of its own: BEGIN and COMMIT would be two more round trips. With
            # a key, a refusal (a duplicate email) must undo the key's claim.
            atomic = connection.transaction() if idempotency_key else nullcontext()
            async with atomic:
                patient, replayed = await self.service.create(
                    connection, actor, data, idempotency_key
                )
        if not replayed and patient.billing_status == BillingStatus.PENDING:
            await self._enrol_after_commit(patient)
        return patient

    async def _enrol_after_commit(self, patient: Patient) -> None:
        """The patient is saved: whatever fails from here on (billing, or the database
        recording billing's answer), the answer is the 201 of a ``PENDING`` patient and
        the retry worker finishes the enrolment (billing's call is idempotent)."""
        try:
            if not await self.enrol(patient):
                self._left_pending.set()
        except Exception as error:
            self._left_pending.set()
            patient.billing_account_id = None
            patient.billing_status = BillingStatus.PENDING
            _log.warning(
                "billing enrolment left to the retry worker", error_type=type(error).__name__
            )

    async def register_into_empty(self, actor: Principal, bodies: Sequence[PatientCreate]) -> int:
        """Create all of ``bodies`` in one transaction, if there is no patient yet; returns
        how many were added. Billing is not asked here: the retry worker opens their
        accounts once their head start is over."""
        async with self.database.connection() as connection, connection.transaction():
            if await patient_count(connection):
                return 0
            for body in bodies:
                await self.service.create(connection, actor, body)
        self._left_pending.set()
        return len(bodies)

    async def enrol(self, patient: Patient) -> bool:
        """Ask billing once; on success record the account on ``patient`` and in the database."""
        try:
            account = await self.billing.create_account(
                str(patient.id), patient.name, patient.email
            )
        except BillingUnavailableError:
            return False
        async with self.database.connection() as connection:
            await mark_billing_active_now(connection, patient.id, account.account_id)
        patient.billing_account_id = account.account_id
        patient.billing_status = BillingStatus.ACTIVE
        return True

    def backoff(self, attempts: int) -> timedelta:
        """1 s, 2 s, 4 s... up to the maximum delay."""
        return timedelta(seconds=min(self.max_delay, 2 ** max(0, attempts - 1)))

    async def retry_pending(self) -> int:
        """One pass over the patients still waiting for an account; returns how many got one."""
        enrolled = 0
        async with self.database.transaction() as session:
            repository = PatientRepository(session)
            for patient in await repository.claim_pending_billing(self.batch_size):
                try:
                    account = await self.billing.create_account(
                        str(patient.id), patient.name, patient.email
                    )
                except BillingUnavailableError:
                    attempts = patient.billing_attempts + 1
                    await repository.postpone_billing(patient.id, attempts, self.backoff(attempts))
                    continue
                await repository.mark_billing_active(patient.id, account.account_id)
                enrolled += 1
        if enrolled:
            _log.info("billing accounts opened on retry", count=enrolled)
        return enrolled

    async def waiting_for_billing(self) -> bool:
        """Whether any patient still waits for its billing account (due or not)."""
        async with self.database.transaction() as session:
            return await PatientRepository(session).has_pending_billing()

    async def run_until(self, stop: asyncio.Event) -> None:
        """Retry until ``stop`` is set; a failed pass is logged, not fatal. While a patient
        waits the passes come every interval; while none does, twice as far apart each
        time, up to the idle maximum, unless this process leaves a patient pending."""
        looks = Backoff(self.retry_interval, self.idle_look_max)
        while not stop.is_set():
            self._left_pending.clear()  # before looking, so one left meanwhile is kept
            try:
                await self.retry_pending()
                if await self.waiting_for_billing():
                    looks.reset()
            except Exception as error:  # the worker must outlive a database hiccup
                _log.error("billing retry pass failed", error_type=type(error).__name__)
                looks.reset()
            await self._pause(stop, looks.next_pause())

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Until ``seconds`` pass, ``stop`` is set or a patient is left pending."""
        waits = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._left_pending.wait()),
        }
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
