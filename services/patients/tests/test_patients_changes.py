"""A patient's update and removal (``repository/changes.py``): the change, its event in
the outbox and its audit entry are committed together, a refused change writes none of
them, and an update that changes nothing keeps the version."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from pms_contracts.patient_event_pb2 import PatientEvent
from pms_patients.settings import PatientsSettings
from pms_platform.db import asyncpg_url
from pms_platform.security import Role
from pms_testing.patients import patient_body

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def details(**changes: Any) -> dict[str, Any]:
    return {**patient_body(), **changes}


@pytest.fixture
async def database(patients_settings: PatientsSettings) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_url(patients_settings.database_url))
    yield connection
    await connection.close()


async def events_of(database: asyncpg.Connection, patient_id: str) -> list[PatientEvent]:
    rows = await database.fetch(
        "SELECT value FROM outbox_events WHERE key = $1 ORDER BY id", patient_id
    )
    return [PatientEvent.FromString(row["value"]) for row in rows]


async def audit_of(
    client: httpx.AsyncClient, headers: Headers, patient_id: str
) -> list[tuple[str, str]]:
    response = await client.get(f"/patients/{patient_id}/audit", headers=headers[Role.ADMIN])
    assert response.status_code == 200
    return [(entry["action"], entry["outcome"]) for entry in reversed(response.json())]


async def register(client: httpx.AsyncClient, headers: Headers) -> dict[str, Any]:
    response = await client.post("/patients", json=details(), headers=headers[Role.ADMIN])
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


async def test_an_update_is_committed_with_its_event_and_audit_entry(
    client: httpx.AsyncClient, as_role: Headers, database: asyncpg.Connection
) -> None:
    patient = await register(client, as_role)
    changed = details(name="Changed Name", email=patient["email"])
    response = await client.put(
        f"/patients/{patient['id']}", json=changed, headers=as_role[Role.CLINICIAN]
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json()["updatedAt"] > patient["updatedAt"]
    events = await events_of(database, patient["id"])
    assert [event.event_type for event in events] == ["PATIENT_CREATED", "PATIENT_UPDATED"]
    assert (events[1].name, events[1].address) == ("Changed Name", changed["address"])
    assert await audit_of(client, as_role, patient["id"]) == [
        ("CREATE", "SUCCESS"),
        ("UPDATE", "SUCCESS"),
    ]


async def test_an_update_that_changes_nothing_keeps_the_version_but_is_recorded(
    client: httpx.AsyncClient, as_role: Headers, database: asyncpg.Connection
) -> None:
    patient = await register(client, as_role)
    same = {key: patient[key] for key in details()}
    response = await client.put(
        f"/patients/{patient['id']}", json=same, headers=as_role[Role.ADMIN]
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == patient
    events = await events_of(database, patient["id"])
    assert [event.event_type for event in events] == ["PATIENT_CREATED", "PATIENT_UPDATED"]
    assert [action for action, _ in await audit_of(client, as_role, patient["id"])] == [
        "CREATE",
        "UPDATE",
    ]


async def test_a_refused_update_writes_no_change_and_no_event(
    client: httpx.AsyncClient, as_role: Headers, database: asyncpg.Connection
) -> None:
    first = await register(client, as_role)
    second = await register(client, as_role)
    url = f"/patients/{second['id']}"
    clash = await client.put(url, json=details(email=first["email"]), headers=as_role[Role.ADMIN])
    assert clash.status_code == 409
    assert (await client.get(url, headers=as_role[Role.ADMIN])).json() == second
    events = await events_of(database, second["id"])
    assert [event.event_type for event in events] == ["PATIENT_CREATED"]
    assert await audit_of(client, as_role, second["id"]) == [
        ("CREATE", "SUCCESS"),
        ("UPDATE", "CONFLICT"),
        ("READ", "SUCCESS"),
    ]


async def test_a_removal_is_committed_with_its_event_and_audit_entry(
    client: httpx.AsyncClient, as_role: Headers, database: asyncpg.Connection
) -> None:
    patient = await register(client, as_role)
    url = f"/patients/{patient['id']}"
    assert (await client.delete(url, headers=as_role[Role.ADMIN])).status_code == 204
    assert (
        await database.fetchval(
            "SELECT count(*) FROM patients WHERE id = $1", uuid.UUID(patient["id"])
        )
        == 0
    )
    events = await events_of(database, patient["id"])
    assert [event.event_type for event in events] == ["PATIENT_CREATED", "PATIENT_DELETED"]
    assert events[1].email == patient["email"]
    assert await audit_of(client, as_role, patient["id"]) == [
        ("CREATE", "SUCCESS"),
        ("DELETE", "SUCCESS"),
    ]
