"""429s with Retry-After: logins per client address and per email, the API per user."""

import asyncio

import pytest

from pms_gateway.rate_limit import InProcessRateLimiter, retry_after_header
from pms_gateway.settings import RateSpec, parse_rate
from pms_testing.metrics import metric_value
from pms_testing.servers import RunningUpstream
from pms_testing.tokens import TokenMinter, bearer

from .conftest import GatewayFactory


def _login(email: str) -> dict[str, str]:
    return {"email": email, "password": "wrong"}


async def test_logins_are_limited_per_client_address_and_the_limit_resets(
    gateway_factory: GatewayFactory, upstreams: dict[str, RunningUpstream]
) -> None:
    limits = {"rate_limit_login_per_address": "2/1s", "rate_limit_login_per_email": "off"}
    async with asyncio.timeout(10), gateway_factory(**limits) as gw:
        first, second, third = [
            await gw.post("/auth/login", json=_login(f"user{n}@test.com")) for n in range(3)
        ]
        assert (first.status_code, second.status_code) == (200, 200)
        assert third.status_code == 429
        assert third.headers["content-type"] == "application/problem+json"
        assert third.headers["retry-after"] == "1"
        await asyncio.sleep(float(third.headers["retry-after"]))
        assert (await gw.post("/auth/login", json=_login("user9@test.com"))).status_code == 200
        metrics = (await gw.get("/metrics")).text
    assert len(upstreams["auth"].app.received) == 3
    assert metric_value(metrics, "gateway_rate_limited_total", limit="login_per_address") == 1.0


async def test_logins_are_limited_per_email_whatever_its_case(
    gateway_factory: GatewayFactory, upstreams: dict[str, RunningUpstream]
) -> None:
    limits = {"rate_limit_login_per_address": "off", "rate_limit_login_per_email": "2/60s"}
    async with asyncio.timeout(10), gateway_factory(**limits) as gw:
        statuses = [
            (await gw.post("/auth/login", json=_login(email))).status_code
            for email in ("jane@test.com", "JANE@test.com ", " jane@TEST.com", "john@test.com")
        ]
    assert statuses == [200, 200, 429, 200]
    # The body read to find the email still reaches auth whole.
    assert (
        upstreams["auth"].app.received[-1].body == b'{"email":"john@test.com","password":"wrong"}'
    )


async def test_a_login_body_that_is_not_json_is_forwarded_for_auth_to_refuse(
    gateway_factory: GatewayFactory, upstreams: dict[str, RunningUpstream]
) -> None:
    async with gateway_factory() as gw:
        response = await gw.post("/auth/login", content=b"not json")
    assert response.status_code == 200
    assert upstreams["auth"].app.received[-1].body == b"not json"


async def test_api_requests_are_limited_per_user(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    alice = bearer(token_minter.mint(user_id="alice"))
    bob = bearer(token_minter.mint(user_id="bob"))
    async with asyncio.timeout(10), gateway_factory(rate_limit_api_per_user="2/60s") as gw:
        alice_statuses = [
            (await gw.get("/api/patients", headers=alice)).status_code for _ in range(3)
        ]
        bob_status = (await gw.get("/api/patients", headers=bob)).status_code
        refused = await gw.get("/api/patients", headers=alice)
    assert alice_statuses == [200, 200, 429]
    assert bob_status == 200
    assert int(refused.headers["retry-after"]) >= 1


async def test_a_limit_set_to_off_never_refuses(
    gateway_factory: GatewayFactory, token_minter: TokenMinter
) -> None:
    token = bearer(token_minter.mint())
    async with gateway_factory(rate_limit_api_per_user="off") as gw:
        statuses = {(await gw.get("/api/patients", headers=token)).status_code for _ in range(30)}
    assert statuses == {200}


async def test_a_token_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = InProcessRateLimiter(RateSpec(3, 3.0), clock=lambda: now[0])
    assert [await limiter.hit("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await limiter.hit("k") == pytest.approx(1.0)
    now[0] = 1.0
    assert await limiter.hit("k") == 0.0
    assert await limiter.hit("other") == 0.0


async def test_the_limiter_forgets_idle_keys_when_it_grows_large() -> None:
    now = [0.0]
    limiter = InProcessRateLimiter(RateSpec(1, 1.0), max_keys=10, clock=lambda: now[0])
    for n in range(10):
        await limiter.hit(f"key{n}")
    now[0] = 5.0  # every bucket refilled: idle
    await limiter.hit("fresh")
    assert await limiter.hit("fresh") > 0  # the fresh key's bucket was kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5/60s", RateSpec(5, 60.0)), ("100/1", RateSpec(100, 1.0)), ("off", None)],
)
def test_rates_are_written_count_per_seconds(text: str, expected: RateSpec | None) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["5 per minute", "0/60s", "5/0s", "-1/5s"])
def test_malformed_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="COUNT/SECONDS"):
        parse_rate(text)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after_header(s) for s in (0.01, 1.0, 1.2)] == ["1", "1", "2"]
