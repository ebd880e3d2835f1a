"""Text PostgreSQL cannot store, or that is not text, is a 400 naming the field and
stores nothing: NUL and other control characters, bidirectional overrides (a name that
displays as another one), unpaired surrogates (JSON can spell them, UTF-8 cannot)."""

import json
import uuid
from typing import Any

import httpx
import pytest

from pms_platform.security import Role
from pms_platform.validation import UNSTORABLE_TEXT_MESSAGE

pytestmark = pytest.mark.integration

Headers = dict[Role, dict[str, str]]


def body(**changes: str) -> bytes:
    """A new patient's JSON with ``changes``, every character escaped as JSON allows
    (so that an unpaired surrogate can be sent at all)."""
    patient: dict[str, Any] = {
        "name": "Jane Roe",
        "email": f"jane.{uuid.uuid4().hex[:8]}@example.com",
        "address": "1 Road",
        "dateOfBirth": "1980-01-01",
        "registeredDate": "2024-01-01",
        **changes,
    }
    return json.dumps(patient, ensure_ascii=True).encode()


async def total(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return (await client.get("/patients", headers=headers)).headers["x-total-count"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Jane\u0000Roe"),
        ("email", "jane\u0000@example.com"),
        ("address", "1 Road\ud800"),
        ("name", "Jane \u202eeoR"),
        ("address", "1\u0007Road"),
    ],
)
async def test_a_create_with_unstorable_text_is_400_for_that_field_and_stores_nothing(
    client: httpx.AsyncClient, as_role: Headers, field: str, value: str
) -> None:
    headers = {**as_role[Role.ADMIN], "content-type": "application/json"}
    before = await total(client, as_role[Role.ADMIN])
    response = await client.post("/patients", content=body(**{field: value}), headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {field: UNSTORABLE_TEXT_MESSAGE}
    assert await total(client, as_role[Role.ADMIN]) == before


async def test_an_update_with_a_nul_is_400_and_changes_nothing(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    headers = {**as_role[Role.ADMIN], "content-type": "application/json"}
    created = (await client.post("/patients", content=body(), headers=headers)).json()
    changed = await client.put(
        f"/patients/{created['id']}", content=body(name="Jane\u0000Doe"), headers=headers
    )
    assert changed.status_code == 400
    assert changed.json()["errors"] == {"name": UNSTORABLE_TEXT_MESSAGE}
    stored = (await client.get(f"/patients/{created['id']}", headers=headers)).json()
    assert stored["name"] == "Jane Roe"


async def test_a_search_with_a_nul_is_400(client: httpx.AsyncClient, as_role: Headers) -> None:
    response = await client.get(
        "/patients", params={"search": "Ja\u0000ne"}, headers=as_role[Role.ADMIN]
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"search": UNSTORABLE_TEXT_MESSAGE}


async def test_tabs_line_breaks_accents_and_right_to_left_marks_are_text(
    client: httpx.AsyncClient, as_role: Headers
) -> None:
    headers = {**as_role[Role.ADMIN], "content-type": "application/json"}
    name = "Zo\u00eb \u05e9\u05e8\u05d4\u200f"
    response = await client.post(
        "/patients", content=body(name=name, address="1 Road\n\tFlat 2"), headers=headers
    )
    assert response.status_code == 201
    assert response.json()["name"] == name
