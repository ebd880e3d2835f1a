"""Who may call what, for every route, through the gateway."""

import uuid

import httpx
import pytest

ROLES = ("ADMIN", "CLINICIAN", "ANALYST")
# (method, gateway path, roles that get through; the others get 403)
ROUTES: list[tuple[str, str, set[str]]] = [
    ("GET", "/api/patients", {"ADMIN", "CLINICIAN"}),
    ("GET", "/api/patients/{patient}", {"ADMIN", "CLINICIAN"}),
    ("GET", "/api/patients/{patient}/audit", {"ADMIN"}),
    ("GET", "/api/audit", {"ADMIN"}),
    ("GET", "/api/billing/accounts/{patient}", {"ADMIN", "CLINICIAN"}),
    ("GET", "/api/billing/accounts/{patient}/invoices", {"ADMIN", "CLINICIAN"}),
    ("GET", "/api/analytics/summary", {"ADMIN", "ANALYST"}),
    ("GET", "/api/analytics/demographics", {"ADMIN", "ANALYST"}),
    ("GET", "/auth/users", {"ADMIN"}),
    ("GET", "/auth/me", {"ADMIN", "CLINICIAN", "ANALYST"}),
]


@pytest.mark.parametrize(("method", "template", "allowed"), ROUTES)
async def test_each_route_admits_exactly_its_roles(
    gateway: httpx.AsyncClient,
    headers_of: dict[str, dict[str, str]],
    method: str,
    template: str,
    allowed: set[str],
) -> None:
    path = template.replace("{patient}", str(uuid.uuid4()))
    for role in ROLES:
        response = await gateway.request(method, path, headers=headers_of[role])
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
    anonymous = await gateway.request(method, path)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_spoofed_identity_headers_do_not_grant_access(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get(
        "/api/patients", headers={"X-User-Role": "ADMIN", "X-User-Id": "someone"}
    )
    assert response.status_code == 401
