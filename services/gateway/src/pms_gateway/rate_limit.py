"""Rate limits behind a small interface: a token bucket per key.

The in-process limiter is what runs today. Its state is per process, so with ``workers``
processes (or replicas) a client gets up to that many times the configured rate; a
shared store (Redis, one ``EVAL`` per hit) would implement :class:`RateLimiter` and be
chosen by a setting, without touching the proxy.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pms_gateway.settings import GatewaySettings, RateSpec


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float:
        """Take one request for ``key``: 0.0 when allowed, else the seconds to wait."""
        ...


class InProcessRateLimiter:
    """Token buckets in a dict; full (idle) buckets are forgotten when it grows large,
    so memory stays bounded whatever keys clients make up."""

    def __init__(
        self,
        rate: RateSpec,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = float(rate.count)
        self._per_second = rate.tokens_per_second
        self._max_keys = max_keys
        self._clock = clock
        # key -> (tokens left, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    async def hit(self, key: str) -> float:
        now = self._clock()
        tokens, counted_at = self._buckets.get(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - counted_at) * self._per_second)
        if tokens >= 1.0:
            if key not in self._buckets and len(self._buckets) >= self._max_keys:
                self._forget_idle(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._per_second

    def _forget_idle(self, now: float) -> None:
        self._buckets = {
            key: (tokens, counted_at)
            for key, (tokens, counted_at) in self._buckets.items()
            if tokens + (now - counted_at) * self._per_second < self._capacity
        }
        if len(self._buckets) >= self._max_keys:
            # Every key is busy: a flood of fresh keys. Starting over only forgets debts.
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (``Retry-After`` has no fractions)."""
    return str(max(1, math.ceil(seconds)))


@dataclass(frozen=True)
class RateLimits:
    """The gateway's limits; ``None`` where a setting turned one off."""

    login_per_address: RateLimiter | None
    login_per_email: RateLimiter | None
    api_per_user: RateLimiter | None

    @classmethod
    def in_process(cls, settings: GatewaySettings) -> "RateLimits":
        def limiter(rate: RateSpec | None) -> RateLimiter | None:
            return InProcessRateLimiter(rate) if rate is not None else None

        return cls(
            login_per_address=limiter(settings.rate_limit_login_per_address),
            login_per_email=limiter(settings.rate_limit_login_per_email),
            api_per_user=limiter(settings.rate_limit_api_per_user),
        )
