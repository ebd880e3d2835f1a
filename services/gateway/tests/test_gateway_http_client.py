"""The gateway's own HTTP client against scripted upstreams on real sockets.

Each scenario runs on both event loops: asyncio's (the tests' own) and uvloop's (what
``python -m pms_gateway`` serves on), whose transports differ in small ways.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import pytest
import uvloop

from pms_gateway.connection_pool import ConnectionPool
from pms_gateway.http_connection import (
    ConnectFailed,
    ConnectionBroken,
    ResponseTimedOut,
    UpstreamResponse,
)
from pms_testing.processes import reserve_port

Answer = Callable[[bytes], bytes | None]
"""The upstream's answer to one request head (``None``: hang up instead)."""
GET = b"GET /x HTTP/1.1\r\nhost: upstream\r\n\r\n"
HEAD = b"HEAD /x HTTP/1.1\r\nhost: upstream\r\n\r\n"


def ok(body: bytes = b"hello", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%b\r\n%b" % (len(body), extra, body)


class ScriptedUpstream:
    """Answers each request head with ``answer``; counts connections, open and total."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                answer = self.answer(head)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


@asynccontextmanager
async def upstream(answer: Answer) -> AsyncIterator[tuple[ScriptedUpstream, int]]:
    scripted = ScriptedUpstream(answer)
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
    try:
        yield scripted, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in scripted.writers:
            writer.close()


@asynccontextmanager
async def pool_for(
    port: int, *, size: int = 10, keepalive: float = 4.0
) -> AsyncIterator[ConnectionPool]:
    pool = ConnectionPool("127.0.0.1", port, size=size, keepalive_seconds=keepalive)
    try:
        yield pool
    finally:
        await pool.close()


async def fetch(pool: ConnectionPool, head: bytes = GET, **options: float) -> tuple[int, bytes]:
    response: UpstreamResponse = await pool.request(
        head,
        connect_timeout=options.get("connect_timeout", 1.0),
        read_timeout=options.get("read_timeout", 2.0),
        head_only=head.startswith(b"HEAD "),
    )
    try:
        body = await response.read()
    except BaseException:
        response.close()
        raise
    response.release()
    return response.status, body


Scenario = Callable[[], Awaitable[None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    """Run a scenario to completion on a fresh loop of the parametrised kind."""

    def on_loop(scenario: Scenario) -> None:
        # A loop of its own, never made the thread's current one: the session's loop
        # of the other tests stays as it is.
        loop = uvloop.new_event_loop() if request.param == "uvloop" else asyncio.new_event_loop()
        try:
            loop.run_until_complete(asyncio.wait_for(scenario(), 10))
        finally:
            loop.close()

    return on_loop


def test_one_connection_carries_request_after_request(run: Callable[[Scenario], None]) -> None:
    async def scenario() -> None:
        async with upstream(lambda _: ok()) as (scripted, port), pool_for(port) as pool:
            assert [await fetch(pool) for _ in range(3)] == [(200, b"hello")] * 3
            assert scripted.connections == 1

    run(scenario)


def test_a_connection_the_upstream_closed_is_replaced(run: Callable[[Scenario], None]) -> None:
    async def scenario() -> None:
        async with upstream(lambda _: ok()) as (scripted, port), pool_for(port) as pool:
            await fetch(pool)
            scripted.writers[0].close()  # the upstream's keep-alive ran out
            await asyncio.sleep(0.05)
            assert await fetch(pool) == (200, b"hello")
            assert scripted.connections == 2

    run(scenario)


def test_an_idle_connection_older_than_the_keep_alive_is_not_reused(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario() -> None:
        async with (
            upstream(lambda _: ok()) as (scripted, port),
            pool_for(port, keepalive=0.05) as pool,
        ):
            await fetch(pool)
            await asyncio.sleep(0.1)
            await fetch(pool)
            assert scripted.connections == 2

    run(scenario)


def test_requests_beyond_the_pool_size_wait_for_a_connection(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario() -> None:
        async with upstream(lambda _: ok()) as (scripted, port), pool_for(port, size=2) as pool:
            results = await asyncio.gather(*(fetch(pool) for _ in range(8)))
            assert results == [(200, b"hello")] * 8
            assert scripted.most_open <= 2

    run(scenario)


def test_a_head_answer_has_no_body_whatever_its_length_and_the_connection_goes_on(
    run: Callable[[Scenario], None],
) -> None:
    def answer(head: bytes) -> bytes:
        if head.startswith(b"HEAD "):
            return b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
        return ok()

    async def scenario() -> None:
        async with upstream(answer) as (scripted, port), pool_for(port) as pool:
            assert await fetch(pool, HEAD) == (200, b"")
            assert await fetch(pool) == (200, b"hello")
            assert scripted.connections == 1

    run(scenario)


def test_chunked_and_unframed_answers_are_read_whole(run: Callable[[Scenario], None]) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
    )
    answers = iter([chunked, b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end"])

    def answer(_head: bytes) -> bytes | None:
        return next(answers, None)

    async def scenario() -> None:
        async with upstream(answer) as (scripted, port), pool_for(port) as pool:
            assert await fetch(pool) == (200, b"hello")
            response = await pool.request(GET, connect_timeout=1.0, read_timeout=2.0)
            pending = asyncio.ensure_future(response.read())
            await asyncio.sleep(0.05)
            for writer in list(scripted.writers):
                writer.close()  # an answer without a length ends with the connection
            assert await pending == b"until the end"
            response.release()

    run(scenario)


def test_an_interim_answer_is_skipped(run: Callable[[Scenario], None]) -> None:
    async def scenario() -> None:
        interim = b"HTTP/1.1 100 Continue\r\n\r\n"
        async with upstream(lambda _: interim + ok(b"done")) as (_, port), pool_for(port) as pool:
            assert await fetch(pool) == (200, b"done")

    run(scenario)


def test_silence_longer_than_the_read_timeout_is_a_timeout(
    run: Callable[[Scenario], None],
) -> None:
    def answer(_head: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"  # and then nothing

    async def scenario() -> None:
        async with upstream(answer) as (_, port), pool_for(port) as pool:
            with pytest.raises(ResponseTimedOut):
                await fetch(pool, read_timeout=0.2)

    run(scenario)


def test_a_refused_connection_and_a_garbled_answer_are_told_apart(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario() -> None:
        reserved = reserve_port()
        try:
            async with pool_for(reserved.getsockname()[1]) as pool:
                with pytest.raises(ConnectFailed):
                    await fetch(pool)
        finally:
            reserved.close()
        async with upstream(lambda _: b"SMTP ready\r\n\r\n") as (_, port), pool_for(port) as pool:
            with pytest.raises(ConnectionBroken):
                await fetch(pool)

    run(scenario)


def test_a_dropped_connection_mid_body_is_broken_not_complete(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario() -> None:
        half = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"
        async with upstream(lambda _: half) as (scripted, port), pool_for(port) as pool:
            response = await pool.request(GET, connect_timeout=1.0, read_timeout=2.0)
            scripted.writers[0].close()
            with pytest.raises(ConnectionBroken):
                await response.read()
            response.close()

    run(scenario)
