"""``eventually``: the one bounded polling loop of the tests, for state that arrives
asynchronously (an event consumed, a row written by a worker) with nothing to await."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]],
    seconds: float = 20.0,
    *,
    interval: float = 0.05,
    description: str = "the condition",
) -> T:
    """Poll ``check`` every ``interval`` seconds until it returns something truthy, and
    return that; an ``AssertionError`` naming ``description`` when ``seconds`` pass."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                result = await check()
                if result:
                    return result
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"{description} did not hold within {seconds} s") from None
