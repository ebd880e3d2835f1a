"""The request head has a deadline: uvicorn under the platform's HTTP protocol closes a
connection whose head is late, with a 408 problem, and leaves timely ones alone."""

import asyncio
import json
import pickle
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
from starlette.types import Receive, Scope, Send

from pms_platform.http_protocol import header_timeout_protocol
from pms_testing.servers import serve_asgi

TIMEOUT = 1.0


async def _echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body (however slowly it comes) and answers with its length."""
    if scope["type"] != "http":
        return
    length = 0
    while True:
        message = await receive()
        length += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    payload = str(length).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@asynccontextmanager
async def _connected() -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    async with serve_asgi(_echo_length, http=header_timeout_protocol(TIMEOUT)) as url:
        parsed = httpx.URL(url)
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            yield reader, writer
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


async def _until_closed(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.perf_counter()
    async with asyncio.timeout(5 * TIMEOUT):
        received = await reader.read()
    return received, time.perf_counter() - started


async def test_a_head_never_finished_is_answered_408_and_closed_after_the_timeout() -> None:
    async with _connected() as (reader, writer):
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        received, seconds = await _until_closed(reader)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"content-type: application/problem+json" in head
    assert b"connection: close" in head
    assert json.loads(body)["status"] == 408
    assert TIMEOUT - 0.2 < seconds < TIMEOUT + 1


async def test_a_head_trickled_a_byte_at_a_time_gains_nothing_by_its_early_bytes() -> None:
    async with _connected() as (reader, writer):
        started = time.perf_counter()
        closed = asyncio.ensure_future(_until_closed(reader))
        for byte in b"GET / HTTP/1.1\r\nHost: test\r\n" + b"X-Slow: yes\r\n" * 20:
            if closed.done():
                break
            with suppress(ConnectionError):
                writer.write(bytes([byte]))
            await asyncio.sleep(0.05)
        received, _ = await closed
    assert received.startswith(b"HTTP/1.1 408 ")
    assert time.perf_counter() - started < TIMEOUT + 1


async def test_a_connection_that_sends_nothing_is_closed_after_the_timeout() -> None:
    async with _connected() as (reader, _):
        received, seconds = await _until_closed(reader)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert seconds < TIMEOUT + 1


async def test_a_timely_head_with_a_slow_body_and_a_later_request_are_served() -> None:
    async with _connected() as (reader, writer):
        # The body is the app's to time: taking longer than the head timeout is fine.
        writer.write(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nab")
        await asyncio.sleep(1.5 * TIMEOUT)
        writer.write(b"cd")
        async with asyncio.timeout(5):
            first = await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(1)
        # The same connection, idle for less than the keep-alive, takes a second request.
        await asyncio.sleep(0.5 * TIMEOUT)
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        async with asyncio.timeout(5):
            second = await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(1)
    assert first.startswith(b"HTTP/1.1 200 ")
    assert first.endswith(b"4")
    assert second.startswith(b"HTTP/1.1 200 ")
    assert second.endswith(b"0")


async def test_a_later_head_on_a_kept_connection_has_the_same_deadline() -> None:
    async with _connected() as (reader, writer):
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        async with asyncio.timeout(5):
            first = await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(1)
        writer.write(b"GET / HTTP/1.1\r\nHost: te")
        received, seconds = await _until_closed(reader)
    assert first.startswith(b"HTTP/1.1 200 ")
    assert received.startswith(b"HTTP/1.1 408 ")
    assert TIMEOUT - 0.2 < seconds < TIMEOUT + 1


def test_the_protocol_survives_the_trip_to_a_worker_process() -> None:
    # With several workers uvicorn pickles its config, the protocol included.
    protocol = pickle.loads(pickle.dumps(header_timeout_protocol(3.0)))  # noqa: S301 (our own bytes)
    assert protocol.keywords == {"header_timeout_seconds": 3.0}
