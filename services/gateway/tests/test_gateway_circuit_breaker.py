"""The circuit breaker's states on a fake clock."""

from pms_gateway.circuit_breaker import CircuitBreaker, CircuitState


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _open_breaker(clock: FakeClock) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=5.0, clock=clock)
    for _ in range(3):
        assert breaker.try_acquire()
        breaker.record_failure()
    return breaker


def test_consecutive_failures_open_the_breaker_and_it_refuses_with_a_retry_time() -> None:
    clock = FakeClock()
    breaker = _open_breaker(clock)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.try_acquire()
    clock.now += 2
    assert breaker.retry_after_seconds() == 3.0


def test_a_success_between_failures_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=5.0, clock=FakeClock())
    for outcome in ("fail", "fail", "ok", "fail", "fail"):
        assert breaker.try_acquire()
        breaker.record_failure() if outcome == "fail" else breaker.record_success()
    assert breaker.state is CircuitState.CLOSED


def test_after_the_cool_down_one_probe_at_a_time_goes_through() -> None:
    clock = FakeClock()
    breaker = _open_breaker(clock)
    clock.now += 5
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.try_acquire()
    assert not breaker.try_acquire()


def test_a_successful_probe_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = _open_breaker(clock)
    clock.now += 5
    assert breaker.try_acquire()
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.try_acquire()
    assert breaker.try_acquire()


def test_a_failed_probe_opens_the_breaker_for_another_cool_down() -> None:
    clock = FakeClock()
    breaker = _open_breaker(clock)
    clock.now += 5
    assert breaker.try_acquire()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now += 4.9
    assert not breaker.try_acquire()


def test_a_released_probe_lets_the_next_request_probe() -> None:
    clock = FakeClock()
    breaker = _open_breaker(clock)
    clock.now += 5
    assert breaker.try_acquire()
    breaker.release()
    assert breaker.try_acquire()


def test_state_changes_are_reported() -> None:
    changes: list[CircuitState] = []
    clock = FakeClock()
    breaker = CircuitBreaker(1, 1.0, clock=clock, on_change=changes.append)
    breaker.try_acquire()
    breaker.record_failure()
    clock.now += 1
    breaker.try_acquire()
    breaker.record_success()
    assert changes == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]
