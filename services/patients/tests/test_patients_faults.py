"""Nothing lost, nothing half-done: billing down, broker unreachable, a crash after commit."""

import asyncio
import uuid
from typing import Any

import asyncpg
import grpc
import httpx
import pytest

from pms_contracts.billing_service_pb2 import BillingRequest
from pms_contracts.billing_service_pb2_grpc import BillingServiceStub
from pms_contracts.patient_event_pb2 import PatientEvent
from pms_patients.app import create_app
from pms_patients.settings import PatientsSettings
from pms_platform.db import asyncpg_url
from pms_platform.kafka import ConsumedEvent, EventConsumer
from pms_platform.security import Role
from pms_testing.http import app_client
from pms_testing.tokens import TokenMinter

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def new_patient() -> dict[str, Any]:
    unique = uuid.uuid4().hex[:8]
    return {
        "name": f"Fault {unique}",
        "email": f"fault.{unique}@example.com",
        "address": "9 Outage Road",
        "dateOfBirth": "1960-01-01",
        "registeredDate": "2024-01-01",
    }


async def consume(bootstrap: str, topic: str, expected: int) -> list[ConsumedEvent]:
    """Read the topic from the beginning until ``expected`` events, then a moment more
    (to catch duplicates)."""
    events: list[ConsumedEvent] = []
    consumer = EventConsumer(bootstrap, [topic], group_id=f"test-{uuid.uuid4().hex}")
    async with consumer, asyncio.timeout(60):
        async for batch in consumer.batches(timeout_ms=300):
            events.extend(batch)
            if len(events) >= expected:
                break
        async for batch in consumer.batches(timeout_ms=300):
            events.extend(batch)
            break
    return events


async def wait_for_billing_status(
    client: httpx.AsyncClient, headers: dict[str, str], patient_id: str, status: str
) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            response = await client.get(f"/patients/{patient_id}", headers=headers)
            patient: dict[str, Any] = response.json()
            if patient["billingStatus"] == status:
                return patient
            await asyncio.sleep(0.2)


async def test_billing_down_gives_201_pending_then_active_with_one_account_when_it_is_back(
    client: httpx.AsyncClient, as_role: Headers, billing: Any
) -> None:
    await billing.stop()
    try:
        response = await client.post("/patients", json=new_patient(), headers=as_role[Role.ADMIN])
        assert response.status_code == 201
        assert response.json()["billingStatus"] == "PENDING"
        assert response.json()["billingAccountId"] is None
    finally:
        await billing.start()
    patient = await wait_for_billing_status(
        client, as_role[Role.ADMIN], response.json()["id"], "ACTIVE"
    )
    assert patient["billingAccountId"]
    # Asking billing again for this patient returns the very same account: exactly one.
    async with grpc.aio.insecure_channel(billing.target) as channel:
        again = await BillingServiceStub(channel).CreateBillingAccount(
            BillingRequest(patientId=patient["id"], name=patient["name"], email=patient["email"])
        )
    assert again.accountId == patient["billingAccountId"]


REFUSE_BILLING_MARK = """
    CREATE FUNCTION refuse_billing_mark() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the database refuses to record the billing account';
    END $$;
    CREATE TRIGGER refuse_billing_mark BEFORE UPDATE OF billing_status ON patients
        FOR EACH ROW WHEN (NEW.billing_status = 'ACTIVE') EXECUTE FUNCTION refuse_billing_mark();
"""


async def test_a_saved_create_is_201_pending_when_recording_billings_answer_fails(
    client: httpx.AsyncClient, as_role: Headers, patients_settings: PatientsSettings
) -> None:
    # The patient's transaction commits; then billing answers, and the one statement that
    # records its account fails in the real database. The client must be told 201 (the
    # patient exists), not 500, and the retry worker must finish once the database heals.
    database = asyncpg_url(patients_settings.database_url)
    connection = await asyncpg.connect(database)
    try:
        await connection.execute(REFUSE_BILLING_MARK)
        response = await client.post("/patients", json=new_patient(), headers=as_role[Role.ADMIN])
        assert response.status_code == 201
        assert response.json()["billingStatus"] == "PENDING"
        assert response.json()["billingAccountId"] is None
        stored = await connection.fetchval(
            "SELECT count(*) FROM patients WHERE id = $1", uuid.UUID(response.json()["id"])
        )
        assert stored == 1
    finally:
        await connection.execute("DROP TRIGGER IF EXISTS refuse_billing_mark ON patients")
        await connection.close()
    patient = await wait_for_billing_status(
        client, as_role[Role.ADMIN], response.json()["id"], "ACTIVE"
    )
    assert patient["billingAccountId"]


async def test_every_change_publishes_its_event_once_in_order_with_headers(
    client: httpx.AsyncClient, as_role: Headers, patient_topic: str, kafka_bootstrap_servers: str
) -> None:
    created = (
        await client.post("/patients", json=new_patient(), headers=as_role[Role.ADMIN])
    ).json()
    url = f"/patients/{created['id']}"
    assert (
        await client.put(url, json=new_patient(), headers=as_role[Role.ADMIN])
    ).status_code == 200
    assert (await client.delete(url, headers=as_role[Role.ADMIN])).status_code == 204

    events = await consume(kafka_bootstrap_servers, patient_topic, expected=3)

    decoded = [event.decode(PatientEvent()) for event in events]
    assert [event.event_type for event in decoded] == [
        "PATIENT_CREATED",
        "PATIENT_UPDATED",
        "PATIENT_DELETED",
    ]
    assert {event.patientId for event in decoded} == {created["id"]}
    assert all(event.key == created["id"].encode() for event in events)
    assert len({event.event_id for event in decoded}) == 3
    assert [event.headers["event_id"] for event in events] == [e.event_id for e in decoded]
    assert decoded[0].date_of_birth == "1960-01-01"


@pytest.fixture
async def unreachable_broker_settings(
    patients_settings: PatientsSettings, monkeypatch: pytest.MonkeyPatch
) -> PatientsSettings:
    monkeypatch.setenv("PMS_PATIENTS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    return PatientsSettings()


async def test_creates_succeed_while_the_broker_is_unreachable_and_every_event_arrives_once_after(
    unreachable_broker_settings: PatientsSettings,
    patients_settings: PatientsSettings,
    token_minter: TokenMinter,
    as_role: Headers,
    patient_topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    verifier = token_minter.verifier()
    ids: list[str] = []
    async with app_client(create_app(unreachable_broker_settings, token_verifier=verifier)) as down:
        for _ in range(5):
            response = await down.post("/patients", json=new_patient(), headers=as_role[Role.ADMIN])
            assert response.status_code == 201
            ids.append(response.json()["id"])
        await asyncio.sleep(1)  # the relay keeps trying and failing meanwhile
    # The broker is reachable again (a service restarted with the right address).
    async with app_client(create_app(patients_settings, token_verifier=verifier)):
        events = await consume(kafka_bootstrap_servers, patient_topic, expected=5)
    assert sorted(event.decode(PatientEvent()).patientId for event in events) == sorted(ids)


async def test_an_event_committed_before_a_crash_is_published_after_the_restart(
    patients_settings: PatientsSettings,
    token_minter: TokenMinter,
    as_role: Headers,
    patient_topic: str,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "Killed between commit and publish": an instance that commits but never relays.
    monkeypatch.setenv("PMS_PATIENTS_BACKGROUND_WORKERS", "false")
    crashed = create_app(PatientsSettings(), token_verifier=token_minter.verifier())
    async with app_client(crashed) as client:
        response = await client.post("/patients", json=new_patient(), headers=as_role[Role.ADMIN])
        assert response.status_code == 201
    async with app_client(create_app(patients_settings, token_verifier=token_minter.verifier())):
        [event] = await consume(kafka_bootstrap_servers, patient_topic, expected=1)
    assert event.decode(PatientEvent()).patientId == response.json()["id"]
