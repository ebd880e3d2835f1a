"""Upstream failures: timeouts, refused connections, the circuit breaker and retries.

Every failure is a problem+json answer within the timeout: 503, 504 or 502, never a 500
and never a hang (each test is bounded by a generous ``asyncio.timeout``).
"""

import asyncio

import httpx

from pms_testing.metrics import metric_value
from pms_testing.processes import reserve_port
from pms_testing.servers import EchoUpstream, HangUpServer, RunningUpstream, serve_asgi
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory

PROBLEM = "application/problem+json"


async def _until_retried(gateway: httpx.AsyncClient) -> None:
    for _ in range(1000):
        metrics = (await gateway.get("/metrics")).text
        if metric_value(metrics, "gateway_upstream_retries_total", upstream="patients") >= 1:
            return
    raise AssertionError("no retry happened")


def _slug(response: httpx.Response) -> str:
    assert response.headers["content-type"] == PROBLEM
    return str(response.json()["type"]).rsplit("/", 1)[1]


async def test_an_upstream_slower_than_the_response_timeout_gives_504(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    async with asyncio.timeout(10), gateway_factory(upstream_response_timeout_seconds=0.3) as gw:
        response = await gw.get("/api/patients/slow", headers=bearer(token_minter.mint()))
    assert response.status_code == 504
    assert _slug(response) == "upstream-timeout"


async def test_a_route_timeout_applies_to_its_own_route_only(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    upstreams["billing"].app.delay = 0.6
    upstreams["patients"].app.delay = 0.6
    token = bearer(token_minter.mint())
    timeouts = {"/api/patients/**": 0.2}
    async with asyncio.timeout(10), gateway_factory(route_response_timeouts=timeouts) as gw:
        patients = await gw.get("/api/patients/slow", headers=token)
        billing = await gw.get("/api/billing/slow", headers=token)
    assert patients.status_code == 504
    assert billing.status_code == 200


async def test_a_refused_connection_gives_503(
    gateway_factory: GatewayFactory, token_minter: TokenMinter, refused_port: int
) -> None:
    patients_url = f"http://127.0.0.1:{refused_port}"
    async with asyncio.timeout(10), gateway_factory(patients_url=patients_url) as gw:
        response = await gw.get("/api/patients", headers=bearer(token_minter.mint()))
    assert response.status_code == 503
    assert _slug(response) == "upstream-unavailable"


async def test_the_breaker_opens_after_repeated_failures_and_closes_after_the_cool_down(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    reserved = reserve_port()
    port = reserved.getsockname()[1]
    token = bearer(token_minter.mint())
    settings = {
        "patients_url": f"http://127.0.0.1:{port}",
        "circuit_failure_threshold": 3,
        "circuit_open_seconds": 1.0,
        "upstream_retries": 0,
    }
    async with asyncio.timeout(20), gateway_factory(**settings) as gw:
        failures = [await gw.get("/api/patients", headers=token) for _ in range(3)]
        assert [_slug(r) for r in failures] == ["upstream-unavailable"] * 3
        reserved.close()
        comeback = EchoUpstream("patients")
        async with serve_asgi(comeback, port=port):
            # Open: refused at once, although the upstream is back, without contacting it.
            refused = await gw.get("/api/patients", headers=token)
            assert refused.status_code == 503
            assert _slug(refused) == "circuit-open"
            assert int(refused.headers["retry-after"]) >= 1
            assert not comeback.received
            ready = (await gw.get("/health/ready")).json()
            assert ready["circuits"]["patients"] == "open"
            metrics = (await gw.get("/metrics")).text
            assert metric_value(metrics, "gateway_circuit_open", upstream="patients") == 1.0

            await asyncio.sleep(1.1)  # the cool-down
            probe = await gw.get("/api/patients", headers=token)
            after = await gw.get("/api/patients", headers=token)
            assert (probe.status_code, after.status_code) == (200, 200)
            assert [r.path for r in comeback.received if r.path != "/health/live"] == [
                "/patients",
                "/patients",
            ]
            ready = (await gw.get("/health/ready")).json()
            assert ready["circuits"]["patients"] == "closed"


async def test_a_failed_probe_opens_the_breaker_again(
    gateway_factory: GatewayFactory, token_minter: TokenMinter, refused_port: int
) -> None:
    token = bearer(token_minter.mint())
    settings = {
        "patients_url": f"http://127.0.0.1:{refused_port}",
        "circuit_failure_threshold": 2,
        "circuit_open_seconds": 0.3,
        "upstream_retries": 0,
    }
    async with asyncio.timeout(20), gateway_factory(**settings) as gw:
        for _ in range(2):
            await gw.get("/api/patients", headers=token)
        await asyncio.sleep(0.35)
        probe = await gw.get("/api/patients", headers=token)
        assert _slug(probe) == "upstream-unavailable"
        assert _slug(await gw.get("/api/patients", headers=token)) == "circuit-open"


async def test_upstream_5xx_answers_do_not_open_the_breaker(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    token = bearer(token_minter.mint())
    async with asyncio.timeout(20), gateway_factory(circuit_failure_threshold=2) as gw:
        for _ in range(4):
            assert (await gw.get("/api/patients/status/500", headers=token)).status_code == 500
        assert (await gw.get("/api/patients", headers=token)).status_code == 200


async def test_a_get_is_retried_on_connection_failure(
    gateway_factory: GatewayFactory, token_minter: TokenMinter, refused_port: int
) -> None:
    settings = {"patients_url": f"http://127.0.0.1:{refused_port}", "upstream_retries": 2}
    async with asyncio.timeout(10), gateway_factory(**settings) as gw:
        response = await gw.get("/api/patients", headers=bearer(token_minter.mint()))
        metrics = (await gw.get("/metrics")).text
    assert response.status_code == 503
    assert metric_value(metrics, "gateway_upstream_retries_total", upstream="patients") == 2.0


async def test_a_get_is_retried_into_an_upstream_that_came_back(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    reserved = reserve_port()
    port = reserved.getsockname()[1]
    comeback = EchoUpstream("patients")
    settings = {"patients_url": f"http://127.0.0.1:{port}", "upstream_retries": 5}
    async with asyncio.timeout(20), gateway_factory(**settings) as gw:
        request = asyncio.create_task(gw.get("/api/patients", headers=bearer(token_minter.mint())))
        # Open the port once an attempt was refused and a retry is waiting its back-off.
        await _until_retried(gw)
        reserved.close()
        async with serve_asgi(comeback, port=port):
            response = await request
    assert response.status_code == 200
    assert len(comeback.received) == 1


async def test_a_post_is_not_retried_on_connection_failure(
    gateway_factory: GatewayFactory, token_minter: TokenMinter, refused_port: int
) -> None:
    settings = {"patients_url": f"http://127.0.0.1:{refused_port}", "upstream_retries": 2}
    async with asyncio.timeout(10), gateway_factory(**settings) as gw:
        response = await gw.post("/api/patients", headers=bearer(token_minter.mint()), json={})
        metrics = (await gw.get("/metrics")).text
    assert response.status_code == 503
    assert metric_value(metrics, "gateway_upstream_retries_total", upstream="patients") == 0.0


async def test_a_post_that_reached_the_upstream_is_never_repeated(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    hang_up = HangUpServer()
    async with (
        hang_up.running() as url,
        asyncio.timeout(10),
        gateway_factory(patients_url=url) as gw,
    ):
        response = await gw.post("/api/patients", headers=bearer(token_minter.mint()), json={})
    assert response.status_code == 502
    assert _slug(response) == "bad-gateway"
    assert hang_up.requests == 1


async def test_a_get_that_reached_the_upstream_is_not_repeated_either(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    hang_up = HangUpServer()
    async with (
        hang_up.running() as url,
        asyncio.timeout(10),
        gateway_factory(patients_url=url) as gw,
    ):
        response = await gw.get("/api/patients", headers=bearer(token_minter.mint()))
    assert response.status_code == 502
    assert hang_up.requests == 1


async def test_a_post_that_timed_out_is_not_repeated(
    gateway_factory: GatewayFactory,
    upstreams: dict[str, RunningUpstream],
    token_minter: TokenMinter,
) -> None:
    async with asyncio.timeout(10), gateway_factory(upstream_response_timeout_seconds=0.2) as gw:
        response = await gw.post("/api/patients/slow", headers=bearer(token_minter.mint()))
    assert response.status_code == 504
    assert len(upstreams["patients"].app.received) == 1


async def test_a_put_with_a_body_is_retried_on_connection_failure_and_answered_503(
    gateway_factory: GatewayFactory, token_minter: TokenMinter, refused_port: int
) -> None:
    settings = {"patients_url": f"http://127.0.0.1:{refused_port}", "upstream_retries": 2}
    async with asyncio.timeout(10), gateway_factory(**settings) as gw:
        response = await gw.put(
            "/api/patients/7", headers=bearer(token_minter.mint()), json={"name": "x"}
        )
        metrics = (await gw.get("/metrics")).text
    assert response.status_code == 503
    assert metric_value(metrics, "gateway_upstream_retries_total", upstream="patients") == 2.0
