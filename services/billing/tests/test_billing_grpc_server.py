"""The gRPC server as a server: deadlines, load shedding, health, reflection, readiness."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)
from sqlalchemy import func, select, text

from pms_billing.models import Account, Invoice, Payment
from pms_contracts.billing_service_pb2 import (
    BillingRequest,
    CreateInvoiceRequest,
    GetBillingAccountRequest,
    PayInvoiceRequest,
)
from pms_testing.polling import eventually

from .conftest import Billing, BillingFactory

pytestmark = pytest.mark.integration


async def open_account(billing: Billing) -> str:
    patient_id = str(uuid.uuid4())
    await billing.stub.CreateBillingAccount(
        BillingRequest(patientId=patient_id, name="Jane Roe", email="jane@example.com"), timeout=5
    )
    return patient_id


@asynccontextmanager
async def account_locked(billing: Billing, patient_id: str) -> AsyncIterator[None]:
    """Hold the patient's account row, as a long transaction elsewhere would."""
    async with billing.database.transaction() as session:
        await session.execute(
            select(Account).where(Account.patient_id == uuid.UUID(patient_id)).with_for_update()
        )
        yield


async def lock_waits(billing: Billing) -> int:
    """How many of the service's queries wait for a row lock right now."""
    async with billing.database.transaction() as session:
        waiting = await session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'billing' AND wait_event_type = 'Lock'"
            )
        )
        return int(waiting.scalar_one())


async def test_a_call_past_its_deadline_is_deadline_exceeded_and_its_work_is_undone(
    billing: Billing,
) -> None:
    patient_id = await open_account(billing)
    invoice = await billing.stub.CreateInvoice(
        CreateInvoiceRequest(patient_id=patient_id, amount_minor=500, currency="EUR"), timeout=5
    )

    async def server_gave_up() -> bool:
        return await lock_waits(billing) == 0

    async with account_locked(billing, patient_id):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await billing.stub.PayInvoice(
                PayInvoiceRequest(invoice_id=invoice.invoice_id, idempotency_key="k"),
                timeout=0.5,
            )
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # The server gave up too: its query no longer waits for the lock we hold.
        await eventually(server_gave_up, seconds=3)

    async with billing.database.transaction() as session:
        stored = await session.get(Invoice, uuid.UUID(invoice.invoice_id))
        payments = (await session.execute(select(func.count()).select_from(Payment))).scalar()
    assert stored is not None
    assert stored.status == "ISSUED"
    assert payments == 0


async def test_calls_beyond_the_concurrency_limit_are_shed_with_resource_exhausted(
    billing_factory: BillingFactory,
) -> None:
    async with billing_factory(grpc_max_concurrent_rpcs=1) as billing:
        patient_id = await open_account(billing)

        async def call_is_waiting() -> bool:
            return await lock_waits(billing) > 0

        async with account_locked(billing, patient_id):
            slow = asyncio.ensure_future(
                billing.stub.CreateInvoice(
                    CreateInvoiceRequest(patient_id=patient_id, amount_minor=1, currency="EUR"),
                    timeout=10,
                )
            )
            await eventually(call_is_waiting)

            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await billing.stub.GetBillingAccount(
                    GetBillingAccountRequest(patient_id=patient_id), timeout=5
                )
            assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

        # The slow call was not harmed, and once it is done the server serves again.
        assert (await slow).status == "ISSUED"
        account = await billing.stub.GetBillingAccount(
            GetBillingAccountRequest(patient_id=patient_id), timeout=5
        )
        assert account.status == "ACTIVE"


async def test_the_health_service_reports_serving_overall_and_for_billing(
    billing: Billing,
) -> None:
    health = health_pb2_grpc.HealthStub(billing.channel)
    for service in ("", "BillingService"):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services_and_describes_billing(billing: Billing) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(billing.channel)

    async def ask(request: object) -> object:
        call = reflection.ServerReflectionInfo(timeout=5)
        await call.write(request)
        await call.done_writing()
        answers = [answer async for answer in call]
        assert len(answers) == 1
        return answers[0]

    listed = await ask(reflection_pb2.ServerReflectionRequest(list_services=""))
    described = await ask(
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="BillingService")
    )

    names = {service.name for service in listed.list_services_response.service}  # type: ignore[attr-defined]
    assert names == {
        "BillingService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    files = described.file_descriptor_response.file_descriptor_proto  # type: ignore[attr-defined]
    assert any(b"CreateBillingAccount" in file and b"PayInvoice" in file for file in files)


async def test_readiness_includes_the_grpc_server(billing: Billing) -> None:
    response = await billing.http.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["components"] == {"database": "UP", "kafka": "UP", "grpc": "UP"}
