"""The few API calls the bench makes itself (setup and checks, never load): log in,
register patients for the updates of the mixed scenario, read the analytics summary.

Only the public contract is used (the original's ``POST /auth/login`` -> ``{token}``,
``POST /api/patients`` -> the patient), so another implementation works too.
"""

import uuid
from dataclasses import dataclass

import httpx

from pms_cli.bench.lua import UpdateTarget

LOGIN_PATH = "/auth/login"
PATIENTS_PATH = "/api/patients"
SUMMARY_PATH = "/api/analytics/summary"


class TargetError(RuntimeError):
    """The target refused what the bench needs (a login, a create)."""


@dataclass(frozen=True)
class Target:
    """The public API under test: a base URL and the credentials of a user who may read
    and register patients (and, for the events scenario, read analytics)."""

    base_url: str
    email: str
    password: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def path_prefix(self) -> str:
        """The base URL's own path (``http://host/prefix`` -> ``/prefix``)."""
        return httpx.URL(self.base_url).path.rstrip("/")


async def login(client: httpx.AsyncClient, url: str, email: str, password: str) -> str:
    response = await client.post(url, json={"email": email, "password": password})
    if response.status_code != 200:
        raise TargetError(f"login at {url} answered {response.status_code}: {response.text[:300]}")
    token = response.json().get("token") or response.json().get("accessToken")
    if not isinstance(token, str):
        raise TargetError(f"login at {url} answered without a token")
    return token


def patient_body(tag: str) -> dict[str, str]:
    return {
        "name": f"Bench {tag}",
        "email": f"bench-{tag}@example.com",
        "address": "1 Bench Street, Testville",
        "dateOfBirth": "1980-01-01",
        "registeredDate": "2024-01-01",
    }


async def create_patients(
    client: httpx.AsyncClient, target: Target, token: str, count: int, run_id: str
) -> list[UpdateTarget]:
    created = []
    headers = {"Authorization": f"Bearer {token}"}
    for index in range(count):
        body = patient_body(f"{run_id}-setup-{index}-{uuid.uuid4().hex[:6]}")
        response = await client.post(target.url(PATIENTS_PATH), json=body, headers=headers)
        if response.status_code not in (200, 201):
            raise TargetError(
                f"creating a patient answered {response.status_code}: {response.text[:300]}"
            )
        created.append(UpdateTarget(str(response.json()["id"]), body["email"]))
    return created


async def patients_total(client: httpx.AsyncClient, target: Target, token: str) -> int | None:
    """How many patients the list reports (``X-Total-Count``; the original has none)."""
    response = await client.get(
        target.url(PATIENTS_PATH),
        params={"size": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    total = response.headers.get("X-Total-Count")
    return int(total) if total and total.isdigit() else None


async def created_count(client: httpx.AsyncClient, target: Target, token: str) -> int | None:
    """``patients.created`` of the analytics summary, or ``None`` when not available."""
    try:
        response = await client.get(
            target.url(SUMMARY_PATH), headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    try:
        value = response.json()["patients"]["created"]
    except (ValueError, KeyError, TypeError):
        return None
    return int(value) if isinstance(value, int) else None
