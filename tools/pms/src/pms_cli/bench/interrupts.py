"""Ctrl-C and SIGTERM during a bench run: the run is cancelled, so that its ``finally``
blocks stop what it started (the services in their own sessions, which the terminal's
Ctrl-C never reaches, and PostgreSQL and Kafka if the bench launched them), and the
command then exits with 128 + the signal's number.

Without this, SIGTERM ended the Python process at once and left the five services
running. A second signal while stopping is ignored: the stop has its own time limits
(SIGKILL after 15 s), and cutting it short would leave the services behind again.
"""

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


class BenchInterruptedError(Exception):
    """The run was stopped by a signal; whatever it started has been stopped again."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(self.signal_name)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def run_until_signal(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, cancelled by the first SIGINT or SIGTERM (then raising
    :class:`BenchInterruptedError` once ``work`` has cleaned up)."""
    return asyncio.run(_cancelled_by_signals(work))


async def _cancelled_by_signals(work: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if received:
            print("bench: already stopping what it started; a moment", file=sys.stderr)
            return
        received.append(signum)
        print(
            f"bench: {signal.Signals(signum).name}: stopping what the bench started",
            file=sys.stderr,
        )
        task.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        result = await work
    except asyncio.CancelledError:
        if received:
            raise BenchInterruptedError(received[0]) from None
        raise
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    if received:  # the cancellation was swallowed on the way: still a stopped run
        raise BenchInterruptedError(received[0])
    return result
