"""Slow and greedy clients: heads and bodies have deadlines (408), a body is read whole
before an upstream connection is taken, and a client's requests in flight are capped
(429), so that one abusive client cannot take the gateway from everyone else."""

import asyncio
import time
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass

import httpx

from pms_gateway.client_limits import ConcurrencyLimiter
from pms_testing.servers import HangUpServer, RunningUpstream
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory

TIMEOUT = 2.0  # the header and body timeouts of these tests' gateways
_SLOW = {
    "header_timeout_seconds": TIMEOUT,
    "body_timeout_seconds": TIMEOUT,
    # Few upstream connections: a gateway that let slow uploads hold them would run out.
    "upstream_pool_size": 4,
}


@dataclass
class Outcome:
    """How a raw connection ended: the status it was answered with (``None``: none) and
    the seconds until the gateway closed it (``None``: still open when we gave up)."""

    status: int | None
    closed_after: float | None


async def _abuse(
    url: str, first: bytes, *, dribble: bytes | None, give_up_after: float = 10.0
) -> Outcome:
    """Connect, send ``first``, then a byte of ``dribble`` every 0.7 s (or nothing) until
    the gateway answers or closes; never more than we meant to send."""
    parsed = httpx.URL(url)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
    received = b""
    try:
        writer.write(first)
        pending = list(dribble or b"")
        async with asyncio.timeout(give_up_after):
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(65536), 0.7)
                except TimeoutError:
                    if pending:
                        writer.write(bytes([pending.pop(0)]))
                    continue
                except ConnectionError:
                    data = b""
                if not data:
                    break
                received += data
                pending = []  # answered: send nothing more
    except TimeoutError:
        return Outcome(_status(received), None)
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()
    return Outcome(_status(received), time.perf_counter() - started)


def _status(received: bytes) -> int | None:
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else None


def _upload_head(url: str, token: str, length: int) -> bytes:
    host = httpx.URL(url).netloc.decode()
    return (
        f"POST /api/patients HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def _timed(request: Awaitable[httpx.Response]) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(3 * TIMEOUT):
            response = await request
    except TimeoutError:
        return 0, time.perf_counter() - started
    return response.status_code, time.perf_counter() - started


async def test_an_abusive_client_of_slow_uploads_and_unfinished_heads_leaves_others_served(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    abuser = token_minter.mint()
    normal = bearer(token_minter.mint())
    async with gateway_factory(**_SLOW) as gw:
        url = str(gw.base_url)
        upload = _upload_head(url, abuser, 1000)
        abusive = [
            # Uploads dribbling their body, and uploads whose body never comes.
            *(_abuse(url, upload + b"{", dribble=b'"a": 1' * 100) for _ in range(30)),
            *(_abuse(url, upload, dribble=None) for _ in range(10)),
            # Heads that never end, dribbling headers or stopping; silent connections.
            *(
                _abuse(url, b"GET /api/patients HTTP/1.1\r\n", dribble=b"X-a: b\r\n" * 50)
                for _ in range(30)
            ),
            *(_abuse(url, b"GET /api/pat", dribble=None) for _ in range(10)),
            *(_abuse(url, b"", dribble=None) for _ in range(10)),
        ]
        abuse = asyncio.gather(*abusive)
        await asyncio.sleep(0.3)  # let the abusive connections in first
        timings: list[tuple[int, float]] = []
        # Over more than the timeouts, so as to see the abusive connections before and
        # after the gateway drops them.
        for n in range(16):
            if n % 2:
                request = gw.post("/api/patients", headers=normal, json={"n": n})
            else:
                request = gw.get(f"/api/patients/{n}", headers=normal)
            timings.append(await _timed(request))
            await asyncio.sleep(0.15)
        outcomes = await abuse
    assert [status for status, _ in timings] == [200] * len(timings)
    assert max(seconds for _, seconds in timings) < TIMEOUT  # nowhere near any timeout
    uploads, heads = outcomes[:40], outcomes[40:]
    # Each upload is turned away: at once (429: beyond the user's requests in flight) or
    # once its body is late (408); none of them took an upstream connection.
    statuses = [outcome.status for outcome in uploads]
    assert statuses.count(408) == 16  # the default of requests in flight per client
    assert statuses.count(429) == len(uploads) - 16
    for outcome in uploads:  # and each connection is closed, none left trickling
        assert outcome.closed_after is not None
        assert outcome.closed_after < 2 * TIMEOUT
    posted = [r.body for r in upstreams["patients"].app.received if r.method == "POST"]
    assert len(posted) == 8
    assert all(body.startswith(b'{"n":') for body in posted)
    # Each unfinished head gets a 408 and is closed soon after the header timeout.
    assert [outcome.status for outcome in heads] == [408] * len(heads)
    for outcome in heads:
        assert outcome.closed_after is not None
        assert TIMEOUT - 0.5 < outcome.closed_after < TIMEOUT + 1.5


async def test_a_body_not_received_in_time_is_a_408_problem_and_never_reaches_the_upstream(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    async with gateway_factory(**_SLOW) as gw:
        url = str(gw.base_url)
        head = _upload_head(url, token_minter.mint(), 100)
        outcome = await _abuse(url, head + b'{"half": ', dribble=None)
    assert outcome.status == 408
    assert outcome.closed_after is not None
    assert outcome.closed_after < TIMEOUT + 1.5
    assert not upstreams["patients"].app.received


async def test_a_slow_upload_takes_no_upstream_connection_until_its_body_is_whole(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    body = b'{"name": "slow but steady"}'
    hang_up = HangUpServer()  # counts the request heads that reach it
    settings = {**_SLOW, "body_timeout_seconds": 10.0}
    async with (
        hang_up.running() as patients,
        gateway_factory(**settings, patients_url=patients) as gw,
        asyncio.timeout(10),
    ):
        url = str(gw.base_url)
        parsed = httpx.URL(url)
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        writer.write(_upload_head(url, token_minter.mint(), len(body)) + body[:5])
        await asyncio.sleep(0.5)
        # The upstream has heard nothing while the body is still coming (a gateway that
        # streamed the body would have sent the head, and waited on the client).
        assert hang_up.requests == 0
        writer.write(body[5:])
        status_line = await reader.readline()
        writer.close()
    assert hang_up.requests == 1
    assert status_line.startswith(b"HTTP/1.1 502 ")  # it reached the upstream, which hung up


async def test_requests_beyond_a_clients_limit_in_flight_are_a_fast_429_for_that_client_only(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    upstreams["patients"].app.delay = 1.0
    greedy = bearer(token_minter.mint())
    other = bearer(token_minter.mint())
    async with gateway_factory(max_concurrent_requests_per_client=3) as gw:
        held = [asyncio.create_task(gw.get("/api/patients/slow", headers=greedy)) for _ in range(3)]
        await asyncio.sleep(0.3)  # the three are in flight, waiting on the upstream
        started = time.perf_counter()
        refused = await gw.get("/api/patients/1", headers=greedy)
        refused_after = time.perf_counter() - started
        others = await gw.get("/api/patients/1", headers=other)
        assert [r.status_code for r in await asyncio.gather(*held)] == [200] * 3
        again = await gw.get("/api/patients/1", headers=greedy)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused_after < 0.5  # not queued behind the requests in flight
    assert others.status_code == 200
    assert again.status_code == 200  # places come back as requests finish


async def test_clients_without_a_token_are_limited_in_flight_by_their_address(
    gateway_factory: GatewayFactory, upstreams: dict[str, RunningUpstream]
) -> None:
    upstreams["auth"].app.delay = 1.0
    async with gateway_factory(max_concurrent_requests_per_client=2) as gw:
        held = [asyncio.create_task(gw.get("/auth/slow")) for _ in range(2)]
        await asyncio.sleep(0.3)
        refused = await gw.get("/auth/anything")
        assert [r.status_code for r in await asyncio.gather(*held)] == [200] * 2
    assert refused.status_code == 429


def test_the_in_flight_table_forgets_a_client_whose_requests_have_finished() -> None:
    limiter = ConcurrencyLimiter(2)
    assert limiter.try_acquire("a")
    assert limiter.try_acquire("a")
    assert not limiter.try_acquire("a")
    assert limiter.try_acquire("b")
    limiter.release("a")
    assert limiter.try_acquire("a")
    for key in ("a", "a", "b"):
        limiter.release(key)
    assert limiter.in_flight("a") == limiter.in_flight("b") == 0
    assert not limiter._in_flight
