"""The billing retry worker while no patient waits: it backs off, and a patient this
process leaves ``PENDING`` wakes it at once (plain fakes for billing and the passes)."""

import asyncio
import uuid
from typing import cast

from pms_patients.grpc_client import BillingClient, BillingUnavailableError
from pms_patients.models import BillingStatus, Patient
from pms_patients.registration import PatientRegistration
from pms_patients.service import PatientService
from pms_platform.db import Database

AN_HOUR = 3600.0


class BillingDown:
    async def create_account(self, patient_id: str, name: str, email: str) -> object:
        raise BillingUnavailableError("billing is down")


class CountedRegistration(PatientRegistration):
    """The passes counted instead of run against a database; nobody waits for billing."""

    def __init__(self) -> None:
        super().__init__(
            cast(Database, None),
            cast(PatientService, None),
            cast(BillingClient, BillingDown()),
            retry_interval_seconds=AN_HOUR,
            idle_look_max_seconds=AN_HOUR,
        )
        self.passes = 0
        self.passed = asyncio.Condition()

    async def retry_pending(self) -> int:
        async with self.passed:
            self.passes += 1
            self.passed.notify_all()
        return 0

    async def waiting_for_billing(self) -> bool:
        return False

    async def until_passes(self, count: int) -> None:
        async with self.passed:
            await self.passed.wait_for(lambda: self.passes >= count)


async def test_a_patient_left_pending_wakes_the_idle_retry_worker_with_an_hour_between_looks() -> (
    None
):
    registration = CountedRegistration()
    stop = asyncio.Event()
    worker = asyncio.create_task(registration.run_until(stop))
    try:
        await asyncio.wait_for(registration.until_passes(1), 20)
        patient = Patient(id=uuid.uuid4(), name="Ada Example", email="ada@example.com")
        patient.billing_status = BillingStatus.PENDING

        await registration._enrol_after_commit(patient)
        await asyncio.wait_for(registration.until_passes(2), 20)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 20)

    assert registration.passes == 2
    assert patient.billing_status == BillingStatus.PENDING
