"""Brute-force protection: failed logins counted per account and per client address.

Past a threshold within a window, the account (or address) is locked for a period that
doubles with every lock in a row, up to a maximum; a quiet window after the last failure
or lock forgives everything. An unknown email is counted and locked exactly like a real
account (its key is the hash of the email either way), so answers never tell which
accounts exist. Counters live in the database, so every replica sees the same ones.

The two locks do not refuse the same logins. A locked account is refused before its
password is checked. A locked address refuses only the logins that fail: its password is
still checked, so a user who shares the address (a NAT, or every client behind a balancer
that the service does not trust) still logs in with the right password; see
``Authentication.login``.
"""

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from pms_auth.models import LoginThrottle
from pms_auth.repository import ThrottleRepository
from pms_auth.settings import AuthSettings
from pms_platform.logging import get_logger

_log = get_logger("pms_auth.lockout")


class ThrottleScope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


@dataclass(frozen=True, order=True)
class ThrottleKey:
    scope: ThrottleScope
    subject: str

    @classmethod
    def account(cls, email: str) -> "ThrottleKey":
        digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
        return cls(ThrottleScope.ACCOUNT, digest)

    @classmethod
    def address(cls, address: str) -> "ThrottleKey":
        return cls(ThrottleScope.ADDRESS, address[:128])

    def as_tuple(self) -> tuple[str, str]:
        return (self.scope.value, self.subject)


@dataclass(frozen=True)
class LockoutPolicy:
    account_threshold: int
    address_threshold: int
    window: timedelta
    base_lock: timedelta
    max_lock: timedelta

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> "LockoutPolicy":
        return cls(
            account_threshold=settings.lockout_account_threshold,
            address_threshold=settings.lockout_address_threshold,
            window=timedelta(seconds=settings.lockout_window_seconds),
            base_lock=timedelta(seconds=settings.lockout_base_seconds),
            max_lock=timedelta(seconds=settings.lockout_max_seconds),
        )

    def threshold(self, scope: ThrottleScope) -> int:
        if scope is ThrottleScope.ACCOUNT:
            return self.account_threshold
        return self.address_threshold

    def lock_duration(self, lock_count: int) -> timedelta:
        """``base``, ``2 * base``, ``4 * base``... for the 1st, 2nd, 3rd lock in a row."""
        doublings = min(max(lock_count - 1, 0), 32)
        lock: timedelta = min(self.base_lock * (2**doublings), self.max_lock)
        return lock

    def register_failure(self, row: LoginThrottle, scope: ThrottleScope, now: datetime) -> bool:
        """Count one failure on ``row``; ``True`` when it starts a lock."""
        if row.locked_until is not None and row.locked_until > now:
            return False  # a concurrent attempt passed the check before the lock was set
        last_event = max(row.last_event_at, row.locked_until or row.last_event_at)
        if now - last_event >= self.window:
            row.failures, row.lock_count, row.window_started_at = 0, 0, now
        elif now - row.window_started_at >= self.window:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        row.last_event_at = now
        if row.failures < self.threshold(scope):
            return False
        row.lock_count += 1
        row.locked_until = now + self.lock_duration(row.lock_count)
        row.failures, row.window_started_at = 0, now
        return True


class Lockout:
    """Reads and records failed logins inside the caller's transaction."""

    def __init__(self, policy: LockoutPolicy) -> None:
        self.policy = policy

    async def running_locks(
        self, session: AsyncSession, keys: Sequence[ThrottleKey], now: datetime
    ) -> dict[ThrottleKey, float]:
        """How many seconds each locked key among ``keys`` stays locked (unlocked keys are
        absent); locks found to have run out are cleared and their end logged."""
        repository = ThrottleRepository(session)
        locks: dict[ThrottleKey, float] = {}
        for row in await repository.find([key.as_tuple() for key in keys]):
            if row.locked_until is None:
                continue
            if row.locked_until > now:
                key = ThrottleKey(ThrottleScope(row.scope), row.subject)
                locks[key] = (row.locked_until - now).total_seconds()
            elif await repository.mark_unlocked(row):
                _log.info("login lock expired", **_log_fields(row))
        return locks

    async def record_failure(
        self,
        session: AsyncSession,
        keys: Sequence[ThrottleKey],
        now: datetime,
        user_id: uuid.UUID | None,
    ) -> None:
        repository = ThrottleRepository(session)
        # Rows are locked in one order by every request, so two cannot deadlock.
        for key in sorted(keys):
            row = await repository.lock(key.as_tuple(), now)
            if key.scope is ThrottleScope.ACCOUNT and user_id is not None:
                row.user_id = user_id
            if self.policy.register_failure(row, key.scope, now):
                assert row.locked_until is not None
                _log.warning(
                    "login locked",
                    lock_seconds=math.ceil((row.locked_until - now).total_seconds()),
                    lock_count=row.lock_count,
                    **_log_fields(row),
                )
        await repository.save()

    async def forget_account(self, session: AsyncSession, key: ThrottleKey) -> None:
        """A successful login wipes the account's failures (never the address's: one valid
        account must not reset the counter of an address trying many others)."""
        await ThrottleRepository(session).remove(key.as_tuple())


def _log_fields(row: LoginThrottle) -> dict[str, str | None]:
    """Who a lock concerns: the user id for accounts (never the email), the address."""
    if row.scope == ThrottleScope.ACCOUNT:
        return {"scope": row.scope, "user_id": str(row.user_id) if row.user_id else None}
    return {"scope": row.scope, "client_address": row.subject}
