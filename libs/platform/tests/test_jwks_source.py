import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pms_platform.security import (
    HttpJwksSource,
    InvalidTokenError,
    KeysUnavailableError,
    TokenSettings,
    TokenVerifier,
)
from pms_testing.polling import eventually
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


async def test_a_token_of_a_key_not_seen_yet_is_not_refused_while_auth_cannot_be_reached(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    """Unchecked, not invalid: a 401 would end a valid session because auth was slow."""
    server.up = False
    verifier = TokenVerifier(source)
    with pytest.raises(KeysUnavailableError):
        await verifier.verify(token_minter.mint())
    server.up = True
    source._next_fetch_at = 0.0  # the one-second retry pause has passed
    assert (await verifier.verify(token_minter.mint())).role.value == "ADMIN"


async def test_an_unknown_key_id_is_invalid_once_auth_has_answered_without_it(
    source: HttpJwksSource, token_minter: TokenMinter
) -> None:
    verifier = TokenVerifier(source)
    await verifier.verify(token_minter.mint())  # auth answered: its keys are known

    with pytest.raises(InvalidTokenError):
        await verifier.verify(TokenMinter().mint())  # another key pair, another kid


async def test_starting_fetches_the_keys_before_any_token_arrives(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    async def published() -> bool:
        return source.published_key(token_minter.kid) is not None

    source.start()
    await eventually(published, 5, description="the keys fetched at start")

    await TokenVerifier(source).verify(token_minter.mint())
    assert server.requests == 1


async def test_starting_while_auth_is_down_keeps_trying_every_second(
    source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    async def asked() -> bool:
        return server.requests >= 1

    async def published() -> bool:
        return source.published_key(token_minter.kid) is not None

    server.up = False
    source.start()
    await eventually(asked, 5, description="a first attempt")
    server.up = True

    await eventually(published, 5, description="the keys fetched once auth answers")


@pytest.fixture
async def refreshing_source(server: JwksServer) -> AsyncIterator[HttpJwksSource]:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    source = HttpJwksSource(
        "http://auth/.well-known/jwks.json",
        refresh_interval_seconds=0.05,
        client=httpx.AsyncClient(transport=transport, base_url="http://auth"),
    )
    yield source
    await source.close()


async def test_a_withdrawn_key_is_refused_after_the_next_refresh_remembered_tokens_included(
    refreshing_source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    verifier = TokenVerifier(refreshing_source)
    remembered = token_minter.mint()
    await verifier.verify(remembered)
    successor = TokenMinter()
    server.jwks = successor.jwks

    async def withdrawn() -> bool:
        return refreshing_source.published_key(token_minter.kid) is None

    await eventually(withdrawn, 5, description="the periodic refresh")
    for token in (remembered, token_minter.mint()):
        with pytest.raises(InvalidTokenError, match="unknown signing key"):
            await verifier.verify(token)
    assert (await verifier.verify(successor.mint())).role.value == "ADMIN"


async def test_a_kid_that_now_names_another_key_refuses_the_tokens_of_the_old_one(
    refreshing_source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    verifier = TokenVerifier(refreshing_source)
    remembered = token_minter.mint()
    await verifier.verify(remembered)
    original = refreshing_source.published_key(token_minter.kid)
    impostor = TokenMinter()
    server.jwks = {"keys": [{**impostor.jwks["keys"][0], "kid": token_minter.kid}]}

    async def replaced() -> bool:
        return refreshing_source.published_key(token_minter.kid) not in (None, original)

    await eventually(replaced, 5, description="the periodic refresh")
    with pytest.raises(InvalidTokenError):
        await verifier.verify(remembered)


async def test_a_key_still_published_keeps_its_object_so_its_tokens_stay_remembered(
    refreshing_source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    await TokenVerifier(refreshing_source).verify(token_minter.mint())
    original = refreshing_source.published_key(token_minter.kid)
    successor = TokenMinter()
    server.jwks = {"keys": token_minter.jwks["keys"] + successor.jwks["keys"]}

    async def added() -> bool:
        return refreshing_source.published_key(successor.kid) is not None

    await eventually(added, 5, description="the periodic refresh")
    assert refreshing_source.published_key(token_minter.kid) is original


async def test_the_keys_stay_while_auth_cannot_be_reached_and_refreshing_goes_on(
    refreshing_source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    verifier = TokenVerifier(refreshing_source)
    await verifier.verify(token_minter.mint())
    server.up = False
    failed_from = server.requests

    async def failed_twice() -> bool:
        return server.requests >= failed_from + 2

    await eventually(failed_twice, 5, description="two failed refreshes")
    assert (await verifier.verify(token_minter.mint())).role.value == "ADMIN"
    server.up = True
    successor = TokenMinter()
    server.jwks = successor.jwks

    async def withdrawn() -> bool:
        return refreshing_source.published_key(token_minter.kid) is None

    await eventually(withdrawn, 5, description="a refresh once auth answers again")


async def test_closing_the_source_stops_the_refreshing(
    refreshing_source: HttpJwksSource, server: JwksServer, token_minter: TokenMinter
) -> None:
    await refreshing_source.key_for(token_minter.kid)
    await refreshing_source.close()
    requests = server.requests
    await asyncio.sleep(0.2)
    assert server.requests == requests


def test_services_refresh_the_keys_every_five_minutes_unless_told_otherwise() -> None:
    assert TokenSettings(service_name="x").auth_jwks_refresh_seconds == 300
    assert (
        TokenSettings(service_name="x", auth_jwks_refresh_seconds=2).auth_jwks_refresh_seconds == 2
    )
