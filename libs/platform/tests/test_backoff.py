"""The growing pauses of idle workers and retries."""

import pytest

from pms_platform.backoff import Backoff


def test_the_pauses_double_up_to_the_maximum() -> None:
    backoff = Backoff(1.0, 30.0)

    assert [backoff.next_pause() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_reset_starts_again_from_the_first_pause() -> None:
    backoff = Backoff(0.5, 4.0)
    for _ in range(5):
        backoff.next_pause()

    backoff.reset()

    assert [backoff.next_pause() for _ in range(3)] == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_backoff_refuses_a_first_pause_that_is_not_positive_or_above_its_maximum(
    initial: float, maximum: float
) -> None:
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial, maximum)
