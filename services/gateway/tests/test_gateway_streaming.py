"""Answers stream to the client; request bodies are read whole first (a slow uploader must
never hold an upstream connection), and one over the limit is a 413, counted as it
arrives."""

import asyncio
import hashlib
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import httpx

from pms_testing.raw_http import raw_exchange
from pms_testing.servers import BIG_BODY_BYTES, RunningUpstream, big_body_sha256
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory

MIB = 1024 * 1024


async def test_a_large_download_streams_through_without_being_buffered_whole(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    patients = upstreams["patients"].app
    digest = hashlib.sha256()
    received = 0
    async with asyncio.timeout(30):
        request = gateway.stream("GET", "/api/patients/big", headers=bearer(token_minter.mint()))
        async with request as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(BIG_BODY_BYTES)
            async for chunk in response.aiter_raw():
                # The upstream holds the rest back until the client has the first bytes:
                # a gateway that buffered the whole body would never deliver them.
                patients.release.set()
                digest.update(chunk)
                received += len(chunk)
    assert received == BIG_BODY_BYTES
    assert digest.hexdigest() == big_body_sha256()


async def test_a_client_leaving_mid_download_makes_the_gateway_drop_the_upstream(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    patients = upstreams["patients"].app
    # Far beyond the test's bound: only the client's leaving can end the upstream call.
    async with gateway_factory(upstream_response_timeout_seconds=600) as gw, asyncio.timeout(10):
        request = gw.stream("GET", "/api/patients/big", headers=bearer(token_minter.mint()))
        async with request as response:
            assert response.status_code == 200
            await anext(response.aiter_raw())
        # Closing a response before its end closes the client's connection.
        await patients.reader_left.wait()
    assert not patients.release.is_set()


async def test_an_upload_under_the_limit_reaches_the_upstream_whole(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    body = bytes(range(256)) * (900 * 1024 // 256)
    response = await gateway.put(
        "/api/patients/7", headers=bearer(token_minter.mint()), content=body
    )
    assert response.status_code == 200
    assert response.json()["bodySha256"] == hashlib.sha256(body).hexdigest()
    assert upstreams["patients"].app.received[-1].header("content-length") == str(len(body))


async def test_a_chunked_upload_under_the_limit_reaches_the_upstream_whole_with_a_length(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    piece = b"x" * (64 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield piece

    response = await gateway.post(
        "/api/patients", headers=bearer(token_minter.mint()), content=chunks()
    )
    assert response.status_code == 200
    assert response.json()["bodyLength"] == 12 * len(piece)
    received = upstreams["patients"].app.received[-1]
    # Once streamed upstream chunk by chunk; now read whole at the gateway first (so that
    # no upstream connection waits on the client), then sent with its length.
    assert received.header("transfer-encoding") is None
    assert received.header("content-length") == str(12 * len(piece))


async def test_a_declared_body_over_one_mib_is_413_before_the_upstream_sees_it(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    request = (
        "POST /api/patients HTTP/1.1\r\nHost: gateway\r\n"
        f"Authorization: Bearer {token_minter.mint()}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {2 * MIB}\r\n\r\n"
    ).encode()
    response = await raw_exchange(str(gateway.base_url), request)
    assert response.status == 413
    assert response.header("content-type") == "application/problem+json"
    assert not upstreams["patients"].app.received


async def test_a_chunked_body_over_one_mib_is_413_when_the_count_passes_the_limit(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    piece = b"y" * (64 * 1024)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    # One chunk past the limit and no final chunk: the gateway reads all of it, so its
    # answer is not lost to a reset over unread bytes.
    request = (
        "POST /api/patients HTTP/1.1\r\nHost: gateway\r\n"
        f"Authorization: Bearer {token_minter.mint()}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + chunk * (MIB // len(piece) + 1)
    async with asyncio.timeout(30):
        response = await raw_exchange(str(gateway.base_url), request)
    assert response.status == 413
    assert response.header("content-type") == "application/problem+json"
    # Counted before the upstream is asked: it hears nothing of the request at all.
    assert not upstreams["patients"].app.received


async def test_a_large_login_body_is_413_too(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream]
) -> None:
    request = (
        "POST /auth/login HTTP/1.1\r\nHost: gateway\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MIB + 1}\r\n\r\n"
    ).encode()
    response = await raw_exchange(str(gateway.base_url), request)
    assert response.status == 413
    assert not upstreams["auth"].app.received


def _post_whole_body_then_read(url: str, body: bytes, token: str) -> int:
    """What Python's urllib (and most SDKs) do: send the whole body, then read."""
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


async def test_a_client_that_sends_a_5_mib_body_before_reading_gets_the_413_not_a_reset(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    url = str(gateway.base_url.join("/api/patients"))
    status = await asyncio.to_thread(
        _post_whole_body_then_read, url, b"z" * (5 * MIB), token_minter.mint()
    )
    assert status == 413
    assert not upstreams["patients"].app.received
