"""A circuit breaker per upstream: stop sending requests to a service that keeps failing.

Closed: requests flow; ``failure_threshold`` consecutive failures (connection refused,
connect or response timeout, connection dropped) open it. Open: requests are refused at
once (503 with ``Retry-After``) without touching the upstream. After ``open_seconds`` it
is half-open: one probe request at a time goes through; its success closes the circuit,
its failure opens it for another cool-down. Any HTTP answer, 5xx included, is a success
here: the service is reachable, and its status passes through to the client.

State is per process: with several workers each learns on its own, which only means a
few more probes reach a failing upstream.
"""

import time
from collections.abc import Callable
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        open_seconds: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitState], None] | None = None,
    ) -> None:
        self._threshold = failure_threshold
        self._open_seconds = open_seconds
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._cool_down_over():
            return CircuitState.HALF_OPEN
        return self._state

    def try_acquire(self) -> bool:
        """May a request go to the upstream now? A ``True`` must be followed by exactly
        one of :meth:`record_success`, :meth:`record_failure` or :meth:`release`."""
        if self._state is CircuitState.CLOSED:
            return True
        if self._state is CircuitState.OPEN:
            if not self._cool_down_over():
                return False
            self._set_state(CircuitState.HALF_OPEN)
        if self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def retry_after_seconds(self) -> float:
        """How long a refused caller should wait before trying again."""
        if self._state is CircuitState.OPEN:
            return max(0.0, self._opened_at + self._open_seconds - self._clock())
        return 0.0

    def record_success(self) -> None:
        self._failures = 0
        self._probe_in_flight = False
        if self._state is not CircuitState.CLOSED:
            self._set_state(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self._probe_in_flight = False
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._set_state(CircuitState.OPEN)

    def release(self) -> None:
        """The request ended without telling anything about the upstream (the client went
        away, its body was too large): let the next request probe."""
        self._probe_in_flight = False

    def _cool_down_over(self) -> bool:
        return self._clock() >= self._opened_at + self._open_seconds

    def _set_state(self, state: CircuitState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)
