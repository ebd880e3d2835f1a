from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from pms_platform.http_app import create_service_app
from pms_platform.security import CurrentPrincipal, Principal, Role, require_roles
from pms_platform.settings import ServiceSettings
from pms_testing.http import app_client
from pms_testing.tokens import TokenMinter, bearer


@pytest.fixture
async def client(token_minter: TokenMinter) -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    @router.delete("/records")
    async def delete_records(
        principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    ) -> dict[str, str]:
        return {"deletedBy": principal.user_id}

    app = create_service_app(
        ServiceSettings(),
        title="rules",
        description="",
        routers=[router],
        token_verifier=token_minter.verifier(),
    )
    async with app_client(app) as client:
        yield client


async def test_no_token_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_bad_token_is_401(client: httpx.AsyncClient, token_minter: TokenMinter) -> None:
    expired = token_minter.mint(expires_in=timedelta(minutes=-5))
    for header in ("Bearer nonsense", f"Bearer {expired}"):
        response = await client.get("/whoami", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert response.json()["detail"] == "The bearer token is not valid"
    # Credentials of another scheme are no bearer token at all.
    response = await client.get(
        "/whoami", headers={"Authorization": f"Basic {token_minter.mint()}"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "A valid bearer token is required"


async def test_a_valid_token_reaches_the_endpoint(
    client: httpx.AsyncClient, token_minter: TokenMinter
) -> None:
    token = token_minter.mint(Role.ANALYST)
    response = await client.get("/whoami", headers=bearer(token))
    assert response.json() == {"role": "ANALYST"}


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.CLINICIAN, 403)])
async def test_roles_are_enforced(
    client: httpx.AsyncClient, token_minter: TokenMinter, role: Role, status: int
) -> None:
    token = token_minter.mint(role)
    response = await client.delete("/records", headers=bearer(token))
    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"] == "This action needs the role ADMIN"


async def test_the_openapi_document_shows_bearer_auth_on_protected_routes(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, method in (("/whoami", "get"), ("/records", "delete")):
        assert document["paths"][path][method]["security"] == [{"HTTPBearer": []}]
