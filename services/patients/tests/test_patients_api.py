import asyncio
import uuid
from typing import Any

import httpx
import pytest

from pms_platform.security import Role

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def new_patient(**changes: Any) -> dict[str, Any]:
    unique = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {
        "name": f"Patient {unique}",
        "email": f"patient.{unique}@example.com",
        "address": "1 Test Street, Springfield",
        "dateOfBirth": "1985-06-15",
        "registeredDate": "2024-01-10",
    }
    body.update(changes)
    return body


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await client.post("/patients", json=new_patient(**changes), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_answers_201_with_location_etag_and_an_active_billing_account(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    body = new_patient(name="John Doe")
    response = await client.post("/patients", json=body, headers=as_role[Role.CLINICIAN])
    assert response.status_code == 201
    patient = response.json()
    assert response.headers["location"] == f"/patients/{patient['id']}"
    assert response.headers["etag"] == '"1"'
    assert {key: patient[key] for key in body} == body
    assert patient["billingStatus"] == "ACTIVE"
    assert patient["billingAccountId"]
    assert patient["createdAt"]
    assert patient["updatedAt"]


async def test_a_patient_is_read_back_by_id_and_unknown_ids_are_404(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient = await create(client, as_role[Role.ADMIN])
    found = await client.get(f"/patients/{patient['id']}", headers=as_role[Role.CLINICIAN])
    assert found.status_code == 200
    assert found.json() == patient
    missing = await client.get(f"/patients/{uuid.uuid4()}", headers=as_role[Role.ADMIN])
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Patient not found"


async def test_a_malformed_id_is_400_never_500(client: httpx.AsyncClient, as_role: Headers) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(
            method, "/patients/not-a-uuid", headers=as_role[Role.ADMIN], json=new_patient()
        )
        assert response.status_code == 400, method
        assert "patientId" in response.json()["errors"]


async def test_validation_failures_are_400_with_the_originals_messages_and_store_nothing(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    response = await client.post(
        "/patients",
        json={"name": "", "email": "bad", "dateOfBirth": "1985-13-45"},
        headers=as_role[Role.ADMIN],
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "name": "Name is required",
        "email": "Email should be valid",
        "address": "Address is required",
        "dateOfBirth": "Date of birth must be a valid calendar date",
        "registeredDate": "Registered date is required",
    }
    listed = await client.get("/patients", headers=as_role[Role.ADMIN])
    assert listed.json() == []


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, as_role: Headers) -> None:
    response = await client.post(
        "/patients",
        content=b"{nope",
        headers={**as_role[Role.ADMIN], "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_a_duplicate_email_in_any_case_is_409(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    first = await create(client, as_role[Role.ADMIN])
    again = await client.post(
        "/patients", json=new_patient(email=first["email"].upper()), headers=as_role[Role.ADMIN]
    )
    assert again.status_code == 409
    assert again.json()["detail"] == "Email address already exists"
    assert again.json()["errors"] == {"email": "Email address already exists"}


async def test_concurrent_creates_with_one_email_give_exactly_one_201(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    body = new_patient()
    responses = await asyncio.gather(
        *(client.post("/patients", json=body, headers=as_role[Role.ADMIN]) for _ in range(8))
    )
    assert sorted(response.status_code for response in responses) == [201] + [409] * 7
    total = await client.get(
        "/patients", params={"search": body["email"]}, headers=as_role[Role.ADMIN]
    )
    assert total.headers["x-total-count"] == "1"


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_creates_nothing(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    body = new_patient()
    headers = {**as_role[Role.CLINICIAN], "Idempotency-Key": "retry-1"}
    first = await client.post("/patients", json=body, headers=headers)
    second = await client.post("/patients", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["location"] == first.headers["location"]
    listed = await client.get("/patients", headers=as_role[Role.ADMIN])
    assert listed.headers["x-total-count"] == "1"


async def test_concurrent_retries_with_one_idempotency_key_create_one_patient(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    body = new_patient()
    headers = {**as_role[Role.CLINICIAN], "Idempotency-Key": "retry-concurrent"}
    responses = await asyncio.gather(
        *(client.post("/patients", json=body, headers=headers) for _ in range(8))
    )
    assert [response.status_code for response in responses] == [201] * 8
    assert len({response.json()["id"] for response in responses}) == 1
    listed = await client.get("/patients", headers=as_role[Role.ADMIN])
    assert listed.headers["x-total-count"] == "1"


async def test_a_duplicate_email_under_a_new_idempotency_key_is_409_and_frees_the_key(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    taken = await create(client, as_role[Role.ADMIN])
    headers = {**as_role[Role.CLINICIAN], "Idempotency-Key": "retry-duplicate"}
    refused = await client.post(
        "/patients", json=new_patient(email=taken["email"]), headers=headers
    )
    assert refused.status_code == 409
    # Nothing of the refused request was kept: the key now creates the patient it names.
    created = await client.post("/patients", json=new_patient(), headers=headers)
    assert created.status_code == 201
    assert created.json()["id"] != taken["id"]


async def test_the_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    headers = {**as_role[Role.CLINICIAN], "Idempotency-Key": "retry-2"}
    assert (await client.post("/patients", json=new_patient(), headers=headers)).status_code == 201
    other = await client.post("/patients", json=new_patient(), headers=headers)
    assert other.status_code == 422


async def test_update_replaces_the_details_and_bumps_the_etag(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient = await create(client, as_role[Role.ADMIN])
    changes = new_patient(name="Renamed", address="2 New Road")
    del changes["registeredDate"]
    response = await client.put(
        f"/patients/{patient['id']}", json=changes, headers=as_role[Role.CLINICIAN]
    )
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["address"]) == ("Renamed", "2 New Road")
    assert updated["registeredDate"] == patient["registeredDate"]
    assert response.headers["etag"] == '"2"'


async def test_update_of_an_unknown_patient_is_404_and_a_taken_email_is_409(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    unknown = await client.put(
        f"/patients/{uuid.uuid4()}", json=new_patient(), headers=as_role[Role.ADMIN]
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "Patient not found"
    first = await create(client, as_role[Role.ADMIN])
    second = await create(client, as_role[Role.ADMIN])
    clash = await client.put(
        f"/patients/{second['id']}",
        json=new_patient(email=first["email"]),
        headers=as_role[Role.ADMIN],
    )
    assert clash.status_code == 409


async def test_a_stale_if_match_is_412_for_update_and_delete_and_changes_nothing(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    patient = await create(client, as_role[Role.ADMIN])
    url = f"/patients/{patient['id']}"
    fresh = await client.put(
        url, json=new_patient(), headers={**as_role[Role.ADMIN], "If-Match": '"1"'}
    )
    assert fresh.status_code == 200
    stale_put = await client.put(
        url, json=new_patient(), headers={**as_role[Role.ADMIN], "If-Match": '"1"'}
    )
    assert stale_put.status_code == 412
    stale_delete = await client.delete(url, headers={**as_role[Role.ADMIN], "If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert (await client.get(url, headers=as_role[Role.ADMIN])).json() == fresh.json()


async def test_delete_is_204_then_404(client: httpx.AsyncClient, as_role: Headers) -> None:
    patient = await create(client, as_role[Role.ADMIN])
    url = f"/patients/{patient['id']}"
    assert (await client.delete(url, headers=as_role[Role.ADMIN])).status_code == 204
    assert (await client.get(url, headers=as_role[Role.ADMIN])).status_code == 404
    assert (await client.delete(url, headers=as_role[Role.ADMIN])).status_code == 404


async def test_the_list_is_paged_with_total_and_links(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    for letter in "ABCDE":
        await create(client, as_role[Role.ADMIN], name=f"{letter} Person")
    response = await client.get(
        "/patients", params={"page": 2, "size": 2}, headers=as_role[Role.ADMIN]
    )
    assert response.status_code == 200
    assert [patient["name"] for patient in response.json()] == ["C Person", "D Person"]
    assert response.headers["x-total-count"] == "5"
    assert 'rel="next"' in response.headers["link"]
    assert 'rel="prev"' in response.headers["link"]


async def test_search_matches_name_or_email_in_any_case(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    await create(client, as_role[Role.ADMIN], name="Margaret Hamilton")
    await create(client, as_role[Role.ADMIN], name="Someone Else", email="HAMILTON.fan@example.com")
    await create(client, as_role[Role.ADMIN], name="Unrelated")
    response = await client.get(
        "/patients", params={"search": "hamil"}, headers=as_role[Role.ADMIN]
    )
    assert sorted(patient["name"] for patient in response.json()) == [
        "Margaret Hamilton",
        "Someone Else",
    ]
    literal = await client.get("/patients", params={"search": "%"}, headers=as_role[Role.ADMIN])
    assert literal.json() == []


async def test_sort_by_each_column_both_ways(client: httpx.AsyncClient, as_role: Headers) -> None:
    await create(
        client,
        as_role[Role.ADMIN],
        name="Old",
        dateOfBirth="1950-01-01",
        registeredDate="2020-01-01",
    )
    await create(
        client,
        as_role[Role.ADMIN],
        name="Young",
        dateOfBirth="2001-01-01",
        registeredDate="2021-01-01",
    )
    oldest_first = await client.get(
        "/patients", params={"sort": "dateOfBirth"}, headers=as_role[Role.ADMIN]
    )
    assert [patient["name"] for patient in oldest_first.json()] == ["Old", "Young"]
    newest_first = await client.get(
        "/patients", params={"sort": "-registeredDate"}, headers=as_role[Role.ADMIN]
    )
    assert [patient["name"] for patient in newest_first.json()] == ["Young", "Old"]
    by_name = await client.get("/patients", params={"sort": "-name"}, headers=as_role[Role.ADMIN])
    assert [patient["name"] for patient in by_name.json()] == ["Young", "Old"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"size": 0},
        {"size": 501},
        {"sort": "address"},
        {"page": "two"},
        {"search": "x" * 101},
    ],
)
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, as_role: Headers, params: dict[str, Any]
) -> None:
    response = await client.get("/patients", params=params, headers=as_role[Role.ADMIN])
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
