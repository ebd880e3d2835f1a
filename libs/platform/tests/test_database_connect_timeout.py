"""A connection that cannot be opened is given up at the connect timeout: a server that
accepts and never answers (or a name lookup whose answer was lost) ends in an
unavailability error, the 503 path, long before the gateway's 15 s, rather than asyncpg's
60 s hang. Both pools are covered: the lean one and SQLAlchemy's."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text

from pms_platform.db import Database, is_database_unavailable

CONNECT_TIMEOUT_SECONDS = 0.3
# Far past the connect timeout and far below asyncpg's own 60 s default, so the test tells
# the two apart without timing anything finely.
PATIENCE_SECONDS = 10.0


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    yield port
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def database(silent_server: int) -> AsyncIterator[Database]:
    """Both pools pointed at the silent server, disposed after the test."""
    database = Database(
        f"postgresql+asyncpg://pms:pms@127.0.0.1:{silent_server}/pms",
        connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
    )
    yield database
    await database.dispose()


async def outcome_of(attempt: Callable[[], Awaitable[object]]) -> BaseException:
    task = asyncio.ensure_future(attempt())
    done, _ = await asyncio.wait({task}, timeout=PATIENCE_SECONDS)
    if task not in done:
        task.cancel()
        pytest.fail(f"still connecting after {PATIENCE_SECONDS} s: no connect timeout")
    error = task.exception()
    assert error is not None, "a silent server cannot have answered"
    return error


async def test_the_lean_pool_gives_up_a_silent_server_at_the_connect_timeout(
    database: Database,
) -> None:
    async def read() -> None:
        async with database.connection() as connection:
            await connection.fetchval("SELECT 1")

    error = await outcome_of(read)
    assert is_database_unavailable(error), repr(error)


async def test_the_session_pool_gives_up_a_silent_server_at_the_connect_timeout(
    database: Database,
) -> None:
    async def write() -> None:
        async with database.transaction() as session:
            await session.execute(text("SELECT 1"))

    error = await outcome_of(write)
    assert is_database_unavailable(error), repr(error)
