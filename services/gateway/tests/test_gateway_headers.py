"""Headers across the gateway: hop-by-hop dropped, forwarding, request ids, trace context."""

import re

import httpx
import pytest

from pms_platform.trace_context import next_traceparent
from pms_testing.raw_http import raw_exchange
from pms_testing.servers import RunningUpstream
from pms_testing.tokens import TokenMinter, bearer

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
INCOMING_TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


async def test_hop_by_hop_request_headers_are_dropped(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    request = (
        "GET /api/patients HTTP/1.1\r\n"
        "Host: gateway.example\r\n"
        f"Authorization: Bearer {token_minter.mint()}\r\n"
        "Connection: keep-alive, X-Hop-Secret\r\n"
        "X-Hop-Secret: only-for-the-first-hop\r\n"
        "Keep-Alive: timeout=5\r\n"
        "TE: trailers\r\n"
        "Trailer: X-Checksum\r\n"
        "Upgrade: something-else\r\n"
        "Proxy-Authorization: Basic cHJveHk6cGFzcw==\r\n"
        "Proxy-Connection: keep-alive\r\n"
        "X-End-To-End: kept\r\n"
        "\r\n"
    ).encode()
    response = await raw_exchange(str(gateway.base_url), request)
    assert response.status == 200
    received = upstreams["patients"].app.received[-1]
    for name in (
        "x-hop-secret",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
    ):
        assert received.header(name) is None, name
    assert received.header("connection") in (None, "keep-alive")  # aiohttp's own, if any
    assert received.header("x-end-to-end") == "kept"
    assert received.header("host") != "gateway.example"


async def test_hop_by_hop_response_headers_are_dropped(
    gateway: httpx.AsyncClient, token_minter: TokenMinter
) -> None:
    response = await gateway.get("/api/patients/hop", headers=bearer(token_minter.mint()))
    assert response.status_code == 200
    for name in ("x-internal", "keep-alive", "proxy-authenticate"):
        assert name not in response.headers, name
    assert response.headers.get("connection") != "x-internal"
    assert response.headers["x-kept"] == "yes"


async def test_forwarded_headers_are_set_from_the_connection_not_the_client(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    spoofed = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Real-IP": "6.6.6.6",
        "Forwarded": "for=6.6.6.6",
    }
    await gateway.get("/api/patients", headers={**spoofed, **bearer(token_minter.mint())})
    received = upstreams["patients"].app.received[-1]
    assert received.header_values("x-forwarded-for") == ["127.0.0.1"]
    assert received.header_values("x-forwarded-proto") == ["http"]
    assert received.header_values("x-forwarded-host") == [gateway.base_url.netloc.decode()]
    assert received.header("x-real-ip") is None
    assert received.header("forwarded") is None


async def test_a_sane_request_id_is_kept_upstream_and_echoed_once(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    response = await gateway.get(
        "/api/patients", headers={"X-Request-ID": "req-42", **bearer(token_minter.mint())}
    )
    assert response.headers.get_list("x-request-id") == ["req-42"]
    assert upstreams["patients"].app.received[-1].header_values("x-request-id") == ["req-42"]


@pytest.mark.parametrize("sent", [None, "not sane <script>", "x" * 200])
async def test_a_request_id_is_generated_when_missing_or_insane(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    sent: str | None,
) -> None:
    headers = bearer(token_minter.mint())
    if sent is not None:
        headers["X-Request-ID"] = sent
    response = await gateway.get("/api/patients", headers=headers)
    generated = response.headers.get_list("x-request-id")
    assert len(generated) == 1
    assert generated[0] != sent
    assert upstreams["patients"].app.received[-1].header_values("x-request-id") == generated


async def test_a_valid_traceparent_keeps_its_trace_with_a_new_span(
    gateway: httpx.AsyncClient, upstreams: dict[str, RunningUpstream], token_minter: TokenMinter
) -> None:
    headers = {
        "traceparent": INCOMING_TRACEPARENT,
        "tracestate": "vendor=abc",
        **bearer(token_minter.mint()),
    }
    await gateway.get("/api/patients", headers=headers)
    received = upstreams["patients"].app.received[-1]
    match = TRACEPARENT.fullmatch(received.header("traceparent") or "")
    assert match is not None
    assert match[1] == TRACE_ID
    assert match[2] != "b7ad6b7169203331"
    assert match[3] == "01"
    assert received.header("tracestate") == "vendor=abc"


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "garbage",
        f"00-{'0' * 32}-b7ad6b7169203331-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
        f"ff-{TRACE_ID}-b7ad6b7169203331-01",
        f"00-{TRACE_ID.upper()}-b7ad6b7169203331-01",
        f"00-{TRACE_ID}-b7ad6b7169203331-01-extra",
    ],
)
async def test_a_missing_or_invalid_traceparent_starts_a_new_trace(
    gateway: httpx.AsyncClient,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
    incoming: str | None,
) -> None:
    headers = bearer(token_minter.mint())
    if incoming is not None:
        headers.update(traceparent=incoming, tracestate="vendor=abc")
    await gateway.get("/api/patients", headers=headers)
    received = upstreams["patients"].app.received[-1]
    match = TRACEPARENT.fullmatch(received.header("traceparent") or "")
    assert match is not None
    assert match[1] != TRACE_ID
    assert match[1] != "0" * 32
    assert received.header("tracestate") is None


def test_a_future_traceparent_version_is_continued_as_version_00() -> None:
    traceparent, continued = next_traceparent(f"01-{TRACE_ID}-b7ad6b7169203331-01-future")
    assert continued
    assert traceparent.startswith(f"00-{TRACE_ID}-")
