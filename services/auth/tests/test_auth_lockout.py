import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from structlog.testing import capture_logs

from pms_auth.lockout import LockoutPolicy, ThrottleScope
from pms_auth.models import LoginThrottle

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
ADMIN = "testuser@test.com"
CLINICIAN = "clinician@test.com"
PASSWORD = "password123"
# Tiny limits: three failures lock an account for one second.
SMALL_LIMITS = {
    "LOCKOUT_ACCOUNT_THRESHOLD": "3",
    "LOCKOUT_ADDRESS_THRESHOLD": "100",
    "LOCKOUT_BASE_SECONDS": "1",
}


async def attempt(
    client: httpx.AsyncClient, email: str, password: str, **headers: str
) -> httpx.Response:
    return await client.post("/login", json={"email": email, "password": password}, headers=headers)


async def fail(client: httpx.AsyncClient, email: str, times: int, **headers: str) -> None:
    for _ in range(times):
        assert (await attempt(client, email, "wrong-password", **headers)).status_code == 401


@pytest.mark.integration
async def test_an_account_is_locked_after_the_threshold_and_unlocked_after_the_period(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**SMALL_LIMITS) as client:
        await fail(client, ADMIN, 3)
        locked = await attempt(client, ADMIN, PASSWORD)
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "1"
        assert locked.headers["content-type"] == "application/problem+json"
        await asyncio.sleep(1.1)
        assert (await attempt(client, ADMIN, PASSWORD)).status_code == 200


@pytest.mark.integration
async def test_an_unknown_email_is_locked_exactly_like_a_real_account(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**SMALL_LIMITS) as client:
        await fail(client, ADMIN, 3)
        await fail(client, "nobody@test.com", 3)
        real = await attempt(client, ADMIN, PASSWORD, **{"X-Request-ID": "same"})
        unknown = await attempt(client, "nobody@test.com", PASSWORD, **{"X-Request-ID": "same"})
    assert real.status_code == unknown.status_code == 429
    assert real.content == unknown.content
    assert real.headers["retry-after"] == unknown.headers["retry-after"]


@pytest.mark.integration
async def test_a_successful_login_forgets_the_account_failures(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**SMALL_LIMITS) as client:
        await fail(client, ADMIN, 2)
        assert (await attempt(client, ADMIN, PASSWORD)).status_code == 200
        await fail(client, ADMIN, 2)
        assert (await attempt(client, ADMIN, PASSWORD)).status_code == 200


@pytest.mark.integration
async def test_an_address_failing_on_many_accounts_is_locked_for_every_account(
    auth_client_factory: ClientFactory,
) -> None:
    limits = {**SMALL_LIMITS, "LOCKOUT_ACCOUNT_THRESHOLD": "100", "LOCKOUT_ADDRESS_THRESHOLD": "3"}
    async with auth_client_factory(**limits) as client:
        for number in range(3):
            await fail(client, f"someone{number}@test.com", 1)
        assert (await attempt(client, CLINICIAN, PASSWORD)).status_code == 429


@pytest.mark.integration
async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    auth_client_factory: ClientFactory,
) -> None:
    limits = {**SMALL_LIMITS, "LOCKOUT_ACCOUNT_THRESHOLD": "100", "LOCKOUT_ADDRESS_THRESHOLD": "2"}
    async with auth_client_factory(**limits, TRUSTED_PROXIES="127.0.0.0/8") as client:
        await fail(client, "a@test.com", 2, **{"X-Forwarded-For": "203.0.113.5"})
        blocked = await attempt(client, CLINICIAN, PASSWORD, **{"X-Forwarded-For": "203.0.113.5"})
        other = await attempt(client, CLINICIAN, PASSWORD, **{"X-Forwarded-For": "203.0.113.6"})
    assert blocked.status_code == 429
    assert other.status_code == 200


@pytest.mark.integration
async def test_a_spoofed_forwarded_address_does_not_escape_an_address_lock(
    auth_client_factory: ClientFactory,
) -> None:
    limits = {**SMALL_LIMITS, "LOCKOUT_ACCOUNT_THRESHOLD": "100", "LOCKOUT_ADDRESS_THRESHOLD": "2"}
    async with auth_client_factory(**limits, TRUSTED_PROXIES="") as client:
        await fail(client, "a@test.com", 1, **{"X-Forwarded-For": "203.0.113.1"})
        await fail(client, "b@test.com", 1, **{"X-Forwarded-For": "203.0.113.2"})
        response = await attempt(client, CLINICIAN, PASSWORD, **{"X-Forwarded-For": "203.0.113.3"})
    assert response.status_code == 429


@pytest.mark.integration
async def test_locks_are_logged_with_the_user_id_and_never_the_email(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**SMALL_LIMITS) as client:
        with capture_logs() as logs:
            await fail(client, ADMIN, 3)
            await asyncio.sleep(1.1)
            await attempt(client, ADMIN, PASSWORD)
    locks = [entry for entry in logs if entry["event"] == "login locked"]
    unlocks = [entry for entry in logs if entry["event"] == "login lock expired"]
    assert len(locks) == len(unlocks) == 1
    assert uuid.UUID(locks[0]["user_id"]) == uuid.UUID(unlocks[0]["user_id"])
    assert not any(ADMIN in str(value) for entry in logs for value in entry.values())
    assert not any("wrong-password" in str(value) for entry in logs for value in entry.values())


NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = LockoutPolicy(
    account_threshold=5,
    address_threshold=20,
    window=timedelta(minutes=15),
    base_lock=timedelta(minutes=1),
    max_lock=timedelta(hours=1),
)


def fresh_row() -> LoginThrottle:
    return LoginThrottle(
        scope="account",
        subject="x",
        failures=0,
        window_started_at=NOW,
        last_event_at=NOW,
        lock_count=0,
        locked_until=None,
    )


def fail_until_locked(row: LoginThrottle, at: datetime) -> int:
    """Fail once a second from ``at`` until a lock starts; the number of failures."""
    for count in range(1, 100):
        if POLICY.register_failure(row, ThrottleScope.ACCOUNT, at + timedelta(seconds=count)):
            return count
    raise AssertionError("never locked")


def test_the_lock_period_doubles_from_one_minute_up_to_one_hour() -> None:
    row = fresh_row()
    durations = []
    at = NOW
    for _ in range(8):
        assert fail_until_locked(row, at) == 5
        assert row.locked_until is not None
        durations.append(row.locked_until - (at + timedelta(seconds=5)))
        at = row.locked_until
    assert durations == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_a_quiet_window_after_a_lock_forgives_it() -> None:
    row = fresh_row()
    fail_until_locked(row, NOW)
    assert row.locked_until is not None
    fail_until_locked(row, row.locked_until + timedelta(minutes=15))
    assert row.lock_count == 1


def test_failures_older_than_the_window_do_not_count() -> None:
    row = fresh_row()
    for _ in range(4):
        POLICY.register_failure(row, ThrottleScope.ACCOUNT, NOW)
    assert not POLICY.register_failure(row, ThrottleScope.ACCOUNT, NOW + timedelta(minutes=16))
    assert row.failures == 1


def test_the_address_threshold_is_separate_from_the_account_threshold() -> None:
    row = fresh_row()
    results = [POLICY.register_failure(row, ThrottleScope.ADDRESS, NOW) for _ in range(20)]
    assert results == [False] * 19 + [True]
