import uuid
from typing import Any

import httpx
import pytest

from pms_platform.security import Role

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def body() -> dict[str, Any]:
    unique = uuid.uuid4().hex[:8]
    return {
        "name": f"Audited {unique}",
        "email": f"audited.{unique}@example.com",
        "address": "3 Audit Lane",
        "dateOfBirth": "1970-02-02",
        "registeredDate": "2020-02-02",
    }


async def make_patient(client: httpx.AsyncClient, headers: Headers) -> str:
    response = await client.post("/patients", json=body(), headers=headers[Role.ADMIN])
    assert response.status_code == 201
    patient_id: str = response.json()["id"]
    return patient_id


# (method, path template, who may call it); {id} is replaced by a real patient id.
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/patients", {Role.ADMIN, Role.CLINICIAN}),
    ("GET", "/patients/{id}", {Role.ADMIN, Role.CLINICIAN}),
    ("POST", "/patients", {Role.ADMIN, Role.CLINICIAN}),
    ("PUT", "/patients/{id}", {Role.ADMIN, Role.CLINICIAN}),
    ("DELETE", "/patients/{id}", {Role.ADMIN}),
    ("GET", "/patients/{id}/audit", {Role.ADMIN}),
    ("GET", "/audit", {Role.ADMIN}),
]


@pytest.mark.parametrize(("method", "template", "allowed"), ROUTES)
async def test_every_route_lets_only_its_roles_through(
    client: httpx.AsyncClient, as_role: Headers, method: str, template: str, allowed: set[Role]
) -> None:
    for role in Role:
        path = template.replace("{id}", await make_patient(client, as_role))
        payload = body() if method in ("POST", "PUT") else None
        response = await client.request(method, path, json=payload, headers=as_role[role])
        if role in allowed:
            assert response.status_code < 400, (role, response.text)
        else:
            assert response.status_code == 403, role
    anonymous = await client.request(method, template.replace("{id}", str(uuid.uuid4())))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"


async def audit_of(
    client: httpx.AsyncClient, headers: Headers, patient_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/patients/{patient_id}/audit", headers=headers[Role.ADMIN])
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_reads_and_changes_are_audited_with_who_what_and_request_id(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient_id = await make_patient(client, as_role)
    await client.get(
        f"/patients/{patient_id}", headers={**as_role[Role.CLINICIAN], "X-Request-ID": "req-read-1"}
    )
    await client.put(f"/patients/{patient_id}", json=body(), headers=as_role[Role.CLINICIAN])
    entries = await audit_of(client, as_role, patient_id)
    assert [entry["action"] for entry in entries] == ["UPDATE", "READ", "CREATE"]
    read = entries[1]
    assert read["userRole"] == "CLINICIAN"
    assert read["userEmail"] == "clinician@test.com"
    assert read["requestId"] == "req-read-1"
    assert read["outcome"] == "SUCCESS"
    assert read["patientIds"] == [patient_id]


async def test_a_list_is_audited_with_its_query_and_the_ids_it_showed(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient_id = await make_patient(client, as_role)
    await client.get("/patients", params={"search": "Audited"}, headers=as_role[Role.CLINICIAN])
    log = await client.get("/audit", params={"action": "LIST"}, headers=as_role[Role.ADMIN])
    assert log.status_code == 200
    [entry] = log.json()
    assert patient_id in entry["patientIds"]
    assert '"search": "Audited"' in entry["query"]


async def test_a_failed_change_is_audited_with_its_outcome_and_changes_nothing(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient_id = await make_patient(client, as_role)
    stale = await client.put(
        f"/patients/{patient_id}",
        json=body(),
        headers={**as_role[Role.CLINICIAN], "If-Match": '"9"'},
    )
    assert stale.status_code == 412
    entries = await audit_of(client, as_role, patient_id)
    assert (entries[0]["action"], entries[0]["outcome"]) == ("UPDATE", "PRECONDITION-FAILED")


async def test_the_audit_log_filters_by_user(client: httpx.AsyncClient, as_role: Headers) -> None:
    await make_patient(client, as_role)
    everything = await client.get("/audit", headers=as_role[Role.ADMIN])
    user_id = everything.json()[0]["userId"]
    mine = await client.get("/audit", params={"userId": user_id}, headers=as_role[Role.ADMIN])
    assert {entry["userId"] for entry in mine.json()} == {user_id}
    nobody = await client.get("/audit", params={"userId": "nobody"}, headers=as_role[Role.ADMIN])
    assert nobody.json() == []


async def test_the_audit_log_filters_by_patient(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient_id, other_id = await make_patient(client, as_role), await make_patient(client, as_role)
    await client.get(f"/patients/{patient_id}", headers=as_role[Role.CLINICIAN])
    log = await client.get("/audit", params={"patientId": patient_id}, headers=as_role[Role.ADMIN])
    assert log.status_code == 200
    assert [entry["action"] for entry in log.json()] == ["READ", "CREATE"]
    assert all(patient_id in entry["patientIds"] for entry in log.json())
    assert other_id not in {pid for entry in log.json() for pid in entry["patientIds"]}
    assert log.headers["x-total-count"] == "2"
    bad = await client.get("/audit", params={"patientId": "x"}, headers=as_role[Role.ADMIN])
    assert bad.status_code == 400
