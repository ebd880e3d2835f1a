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


# Three failures lock an address for a minute (long enough for any test); accounts lock
# only after a hundred unless a test says otherwise.
ADDRESS_LIMITS = {
    **SMALL_LIMITS,
    "LOCKOUT_ACCOUNT_THRESHOLD": "100",
    "LOCKOUT_ADDRESS_THRESHOLD": "3",
    "LOCKOUT_BASE_SECONDS": "60",
}


async def lock_the_address(client: httpx.AsyncClient, **headers: str) -> None:
    """Three failures, each on another unknown account, lock the client's address."""
    for number in range(3):
        await fail(client, f"someone{number}@test.com", 1, **headers)


@pytest.mark.integration
async def test_a_locked_address_refuses_wrong_passwords_for_every_account(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**ADDRESS_LIMITS) as client:
        await lock_the_address(client)
        refused = await attempt(client, CLINICIAN, "wrong-password")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.integration
async def test_a_locked_address_still_lets_the_right_password_of_another_account_in(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**ADDRESS_LIMITS) as client:
        await lock_the_address(client)
        right = await attempt(client, CLINICIAN, PASSWORD)
        wrong = await attempt(client, ADMIN, "wrong-password")
        again = await attempt(client, ADMIN, PASSWORD)
    assert right.status_code == 200, right.text
    assert right.json()["accessToken"]
    assert wrong.status_code == 429
    assert again.status_code == 200, again.text


@pytest.mark.integration
async def test_a_locked_address_answers_unknown_and_real_emails_alike(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**ADDRESS_LIMITS) as client:
        await lock_the_address(client)
        real = await attempt(client, ADMIN, "wrong-password", **{"X-Request-ID": "same"})
        unknown = await attempt(client, "nobody@test.com", PASSWORD, **{"X-Request-ID": "same"})
    assert real.status_code == unknown.status_code == 429
    assert real.content == unknown.content
    assert real.headers["retry-after"] == unknown.headers["retry-after"]


@pytest.mark.integration
async def test_failures_from_a_locked_address_still_lock_their_account(
    auth_client_factory: ClientFactory,
) -> None:
    limits = {**ADDRESS_LIMITS, "LOCKOUT_ACCOUNT_THRESHOLD": "3"}
    async with auth_client_factory(**limits) as client:
        await lock_the_address(client)
        for _ in range(3):
            assert (await attempt(client, CLINICIAN, "wrong-password")).status_code == 429
        clinician = await attempt(client, CLINICIAN, PASSWORD)
        admin = await attempt(client, ADMIN, PASSWORD)
    assert clinician.status_code == 429  # its own lock now, which the right password won't lift
    assert admin.status_code == 200, admin.text


@pytest.mark.integration
async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**ADDRESS_LIMITS, TRUSTED_PROXIES="127.0.0.0/8") as client:
        await lock_the_address(client, **{"X-Forwarded-For": "203.0.113.5"})
        locked = await attempt(client, CLINICIAN, "wrong", **{"X-Forwarded-For": "203.0.113.5"})
        other = await attempt(client, CLINICIAN, "wrong", **{"X-Forwarded-For": "203.0.113.6"})
    assert locked.status_code == 429
    assert other.status_code == 401


@pytest.mark.integration
async def test_a_spoofed_forwarded_address_does_not_escape_an_address_lock(
    auth_client_factory: ClientFactory,
) -> None:
    async with auth_client_factory(**ADDRESS_LIMITS, TRUSTED_PROXIES="") as client:
        for number in range(3):
            spoofed = {"X-Forwarded-For": f"203.0.113.{number}"}
            await fail(client, f"someone{number}@test.com", 1, **spoofed)
        response = await attempt(client, CLINICIAN, "wrong", **{"X-Forwarded-For": "203.0.113.9"})
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
