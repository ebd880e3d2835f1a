"""A signing key rotated, then withdrawn, against running services: auth (its app under
uvicorn, on its own database) logs users in and publishes the JWKS, and the gateway runs
as a process, the way users run it, in front of an upstream that answers every request.
Auth is restarted on the same address with each new key configuration, as a deployment
would; the gateway is never restarted."""

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pms_auth.app import create_app
from pms_auth.keys import KeySet, private_key_pem, public_key_pem
from pms_auth.settings import ORIGINAL_ADMIN_EMAIL, AuthSettings
from pms_auth.tokens import AccessTokenSigner
from pms_platform.security import TOKEN_AUDIENCE, TOKEN_ISSUER
from pms_testing.polling import eventually
from pms_testing.processes import ServiceProcess, free_port
from pms_testing.servers import EchoUpstream, serve_asgi
from pms_testing.tokens import bearer

from .conftest import Login

pytestmark = pytest.mark.integration

JWKS_REFRESH_SECONDS = 0.3


@asynccontextmanager
async def running_auth(
    env: pytest.MonkeyPatch,
    signing_key: Ed25519PrivateKey,
    previous: Sequence[Ed25519PrivateKey] = (),
    port: int = 0,
) -> AsyncIterator[str]:
    """Auth signing with ``signing_key`` and publishing ``previous`` public keys too."""
    env.setenv("PMS_AUTH_SIGNING_KEY", private_key_pem(signing_key).decode())
    pems = b"".join(public_key_pem(key.public_key()) for key in previous).decode()
    env.setenv("PMS_AUTH_PREVIOUS_PUBLIC_KEYS", pems)
    async with serve_asgi(create_app(AuthSettings()), port=port, lifespan="on") as url:
        yield url


@asynccontextmanager
async def running_gateway(auth_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """``python -m pms_gateway serve`` in front of auth, with an echo upstream as patients."""
    async with serve_asgi(EchoUpstream("patients")) as patients_url:
        port = free_port()
        gateway = ServiceProcess(
            "pms_gateway",
            port,
            {
                "PMS_GATEWAY_HTTP_PORT": str(port),
                "PMS_GATEWAY_AUTH_URL": auth_url,
                "PMS_GATEWAY_AUTH_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
                "PMS_GATEWAY_AUTH_JWKS_REFRESH_SECONDS": str(JWKS_REFRESH_SECONDS),
                "PMS_GATEWAY_PATIENTS_URL": patients_url,
            },
        )
        await gateway.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield client
        finally:
            await gateway.stop()


async def log_in(auth_url: str, login: Login) -> str:
    async with httpx.AsyncClient(base_url=auth_url) as auth:
        token: str = (await login(auth, ORIGINAL_ADMIN_EMAIL))["accessToken"]
    return token


def forged_with(key: Ed25519PrivateKey) -> str:
    """What someone holding ``key`` can sign: an ADMIN token of the right shape and life."""
    signer = AccessTokenSigner(
        KeySet(key), issuer=TOKEN_ISSUER, audience=TOKEN_AUDIENCE, ttl=timedelta(minutes=15)
    )
    token = signer.sign(
        user_id=uuid.uuid4(),
        email=ORIGINAL_ADMIN_EMAIL,
        role="ADMIN",
        session_id=uuid.uuid4(),
        now=datetime.now(UTC),
    )
    return token.value


async def status_of(gateway: httpx.AsyncClient, token: str) -> int:
    response = await gateway.get("/api/patients", headers=bearer(token))
    if response.status_code == 401:
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    else:
        assert response.json()["upstream"] == "patients", response.text
    return response.status_code


async def test_a_withdrawn_signing_key_is_refused_by_the_running_gateway_within_its_refresh(
    auth_env: pytest.MonkeyPatch, signing_key: Ed25519PrivateKey, login: Login
) -> None:
    old_key, new_key = signing_key, Ed25519PrivateKey.generate()
    auth_port = free_port()
    auth_url = f"http://127.0.0.1:{auth_port}"
    async with running_gateway(auth_url) as gateway:
        async with running_auth(auth_env, old_key, port=auth_port):
            old_token = await log_in(auth_url, login)
            assert await status_of(gateway, old_token) == 200  # now remembered by the gateway

        # The rotation: auth signs with the new key and still publishes the old one.
        async with running_auth(auth_env, new_key, [old_key], port=auth_port):
            new_token = await log_in(auth_url, login)

            async def new_key_accepted() -> bool:
                return await status_of(gateway, new_token) == 200

            await eventually(new_key_accepted, 10, description="the new key's acceptance")
            assert await status_of(gateway, old_token) == 200
            assert await status_of(gateway, forged_with(old_key)) == 200

        # The old key withdrawn: no token it signed may work any more, remembered or new.
        async with running_auth(auth_env, new_key, port=auth_port):

            async def old_key_refused() -> bool:
                return await status_of(gateway, old_token) == 401

            await eventually(old_key_refused, 10, description="the old key's refusal")
            assert await status_of(gateway, forged_with(old_key)) == 401
            assert await status_of(gateway, new_token) == 200
            assert await status_of(gateway, await log_in(auth_url, login)) == 200
