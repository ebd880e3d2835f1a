"""The hot reads (one statement each, pages served again from memory): the same answers
and audit entries as ever, and a read after a change always sees the change, whichever
instance or writer made it."""

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from pms_patients.app import create_app
from pms_patients.settings import PatientsSettings
from pms_platform.db import asyncpg_url
from pms_platform.security import Role
from pms_testing.http import app_client
from pms_testing.tokens import TokenMinter

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def body(name: str) -> dict[str, Any]:
    unique = uuid.uuid4().hex[:8]
    return {
        "name": f"{name} {unique}",
        "email": f"reads.{unique}@example.com",
        "address": "5 Cache Row",
        "dateOfBirth": "1981-05-05",
        "registeredDate": "2021-05-05",
    }


async def register(client: httpx.AsyncClient, headers: Headers, name: str) -> dict[str, Any]:
    response = await client.post("/patients", json=body(name), headers=headers[Role.ADMIN])
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


async def list_entries(client: httpx.AsyncClient, headers: Headers) -> list[dict[str, Any]]:
    log = await client.get(
        "/audit", params={"action": "LIST", "size": 500}, headers=headers[Role.ADMIN]
    )
    assert log.status_code == 200
    entries: list[dict[str, Any]] = log.json()
    return entries


async def test_a_page_read_again_is_the_same_answer_and_is_audited_again(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    for name in ("Anna", "Bert", "Cleo"):
        await register(client, as_role, name)
    params: dict[str, str | int] = {"size": 2, "sort": "-name"}
    first = await client.get("/patients", params=params, headers=as_role[Role.CLINICIAN])
    again = await client.get("/patients", params=params, headers=as_role[Role.CLINICIAN])
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["x-total-count"] == first.headers["x-total-count"] == "3"
    assert again.headers["link"] == first.headers["link"]
    shown = [patient["id"] for patient in first.json()]
    entries = await list_entries(client, as_role)
    assert [entry["patientIds"] for entry in entries] == [shown, shown]
    assert {entry["requestId"] for entry in entries} == {
        first.headers["x-request-id"],
        again.headers["x-request-id"],
    }


async def test_a_change_by_another_instance_is_seen_by_the_next_read(
    client: httpx.AsyncClient,
    as_role: Headers,
    patients_settings: PatientsSettings,
    token_minter: TokenMinter,
) -> None:
    patient = await register(client, as_role, "Dora")
    url = f"/patients/{patient['id']}"
    before = await client.get("/patients", headers=as_role[Role.CLINICIAN])
    assert [row["name"] for row in before.json()] == [patient["name"]]

    other = create_app(patients_settings, token_verifier=token_minter.verifier())
    async with app_client(other) as other_client:
        changed = {**body("Dorothea"), "email": patient["email"]}
        put = await other_client.put(url, json=changed, headers=as_role[Role.ADMIN])
        assert put.status_code == 200
        newcomer = await register(other_client, as_role, "Emil")

    after = await client.get("/patients", headers=as_role[Role.CLINICIAN])
    assert [row["name"] for row in after.json()] == [changed["name"], newcomer["name"]]
    assert after.headers["x-total-count"] == "2"
    one = await client.get(url, headers=as_role[Role.CLINICIAN])
    assert one.json()["name"] == changed["name"]
    assert one.headers["etag"] == put.headers["etag"]


async def test_a_change_made_straight_in_the_database_is_seen_by_the_next_read(
    client: httpx.AsyncClient, as_role: Headers, patients_settings: PatientsSettings
) -> None:
    """Writers that are not requests (the billing retry worker, a migration, an operator)
    move the revision too: the trigger is on the table."""
    patient = await register(client, as_role, "Fritz")
    cached = await client.get("/patients", headers=as_role[Role.CLINICIAN])
    assert cached.json()[0]["billingAccountId"] == patient["billingAccountId"]

    connection = await asyncpg.connect(asyncpg_url(patients_settings.database_url))
    try:
        await connection.execute(
            "UPDATE patients SET billing_account_id = 'ACC-BY-HAND' WHERE id = $1",
            uuid.UUID(patient["id"]),
        )
    finally:
        await connection.close()

    after = await client.get("/patients", headers=as_role[Role.CLINICIAN])
    assert after.json()[0]["billingAccountId"] == "ACC-BY-HAND"
    assert after.content != cached.content


async def test_a_removed_patient_leaves_the_page_read_next(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    kept = await register(client, as_role, "Gina")
    removed = await register(client, as_role, "Hugo")
    assert len((await client.get("/patients", headers=as_role[Role.ADMIN])).json()) == 2
    deleted = await client.delete(f"/patients/{removed['id']}", headers=as_role[Role.ADMIN])
    assert deleted.status_code == 204
    after = await client.get("/patients", headers=as_role[Role.ADMIN])
    assert [row["id"] for row in after.json()] == [kept["id"]]
    assert after.headers["x-total-count"] == "1"


async def test_the_kept_count_is_the_count_after_bulk_inserts_deletes_and_a_truncate(
    client: httpx.AsyncClient, as_role: Headers, patients_settings: PatientsSettings
) -> None:
    await register(client, as_role, "Ida")
    connection = await asyncpg.connect(asyncpg_url(patients_settings.database_url))

    async def total() -> str:
        response = await client.get("/patients", headers=as_role[Role.ADMIN])
        assert response.status_code == 200
        return response.headers["x-total-count"]

    try:
        await connection.execute(
            "INSERT INTO patients (id, name, email, address, date_of_birth, registered_date)"
            " SELECT gen_random_uuid(), 'Bulk ' || n, 'bulk' || n || '@example.com', 'Row',"
            " date '1990-01-01', date '2020-01-01' FROM generate_series(1, 40) AS n"
        )
        assert await total() == "41"
        await connection.execute("DELETE FROM patients WHERE name LIKE 'Bulk 1%'")
        expected = await connection.fetchval("SELECT count(*) FROM patients")
        assert await total() == str(expected) == "30"
        await connection.execute("TRUNCATE patients")
        assert await total() == "0"
    finally:
        await connection.close()
