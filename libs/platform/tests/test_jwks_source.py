from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pms_platform.security import HttpJwksSource, InvalidTokenError, TokenVerifier
from pms_testing.tokens import TokenMinter


class JwksServer:
    """A real HTTP app serving a JWKS that the test can change or take down."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.up = True
        self.requests = 0
        self.app = FastAPI()

        @self.app.get("/.well-known/jwks.json")
        async def jwks_document() -> dict[str, Any]:
            self.requests += 1
            if not self.up:
                raise RuntimeError("auth is down")
            return self.jwks


@pytest.fixture
async def server(token_minter: TokenMinter) -> JwksServer:
    return JwksServer(token_minter.jwks)


def source_for(server: JwksServer, refetch_interval: float) -> HttpJwksSource:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://auth")
    return HttpJwksSource(
        "http://auth/.well-known/jwks.json",
        min_refetch_interval_seconds=refetch_interval,
        client=client,
    )


@pytest.fixture
async def source(server: JwksServer) -> AsyncIterator[HttpJwksSource]:
    source = source_for(server, refetch_interval=60)
    yield source
    await source.close()


async def test_keys_are_fetched_once_and_cached(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    verifier = TokenVerifier(source)
    for _ in range(3):
        await verifier.verify(token_minter.mint())
    assert server.requests == 1


async def test_unknown_key_ids_refetch_at_most_once_per_interval(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    await source.key_for(token_minter.kid)
    for attempt in range(5):
        with pytest.raises(InvalidTokenError):
            await source.key_for(f"forged-{attempt}")
    assert server.requests == 1


async def test_a_rotated_key_is_picked_up_when_the_interval_allows(
    server: JwksServer, token_minter: TokenMinter
) -> None:
    source = source_for(server, refetch_interval=0)
    try:
        await source.key_for(token_minter.kid)
        successor = TokenMinter()
        server.jwks = {"keys": token_minter.jwks["keys"] + successor.jwks["keys"]}
        verifier = TokenVerifier(source)
        assert (await verifier.verify(successor.mint())).email == "someone@test.com"
    finally:
        await source.close()


async def test_tokens_are_refused_while_auth_cannot_be_reached_then_accepted(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    server.up = False
    verifier = TokenVerifier(source)
    with pytest.raises(InvalidTokenError):
        await verifier.verify(token_minter.mint())
    server.up = True
    source._next_fetch_at = 0.0  # the one-second retry pause has passed
    assert (await verifier.verify(token_minter.mint())).role.value == "ADMIN"
