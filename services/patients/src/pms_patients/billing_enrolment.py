"""Opening each patient's billing account: once right after registration, then by a
background worker with backoff until billing answers.

Safe to repeat: billing's ``CreateBillingAccount`` is idempotent per patient id, so a
retry after a lost answer returns the same account instead of a second one.
"""

import asyncio
import contextlib
from datetime import timedelta

from pms_patients.grpc_client import BillingClient, BillingUnavailableError
from pms_patients.models import BillingStatus, Patient
from pms_patients.repository import PatientRepository
from pms_platform.db import Database
from pms_platform.logging import get_logger

_log = get_logger("pms.patients.billing")


class BillingEnrolment:
    def __init__(
        self,
        database: Database,
        client: BillingClient,
        *,
        retry_interval_seconds: float = 1.0,
        max_delay_seconds: float = 60.0,
        batch_size: int = 20,
    ) -> None:
        self.database = database
        self.client = client
        self.retry_interval = retry_interval_seconds
        self.max_delay = max_delay_seconds
        self.batch_size = batch_size

    async def enrol(self, patient: Patient) -> bool:
        """Ask billing once; on success record the account on ``patient`` and in the database."""
        try:
            account = await self.client.create_account(str(patient.id), patient.name, patient.email)
        except BillingUnavailableError:
            return False
        async with self.database.transaction() as session:
            await PatientRepository(session).mark_billing_active(patient.id, account.account_id)
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
                    account = await self.client.create_account(
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

    async def run_until(self, stop: asyncio.Event) -> None:
        """Retry every interval until ``stop`` is set; a failed pass is logged, not fatal."""
        while not stop.is_set():
            try:
                await self.retry_pending()
            except Exception as error:  # the worker must outlive a database hiccup
                _log.error("billing retry pass failed", error_type=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry_interval)
