"""Async SQLAlchemy: one engine per service, one session (one transaction) per request.

Who commits (docs/architecture.md):

- the transports: an HTTP request's ``SessionDep`` commits when the endpoint returned
  normally and rolls back when anything raised, so a request is all or nothing; a gRPC
  servicer opens one :meth:`Database.transaction` per call; the platform's consumer one
  per event;
- the one named module of a service whose flow truly needs transactions of its own (a
  refusal that must be recorded although the answer is an error, a call to another
  service after the commit), which takes the :class:`Database` and says why.

Routes, services and repositories never commit: they work in the session they are given.

Hot reads skip the ORM: :meth:`Database.connection` lends a plain asyncpg connection
from a second, lean pool (no pre-ping, prepared statements cached per connection), on
which each statement commits by itself. A read that must also leave a record (the
patients' audit entry) does both in one statement, so it is still all or nothing.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData, event, make_url, text
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pms_platform.settings import DatabaseSettings

# Stable constraint names, so that Alembic autogenerate and hand-written migrations agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A fresh metadata for one service's tables: services never share table definitions."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def _replace_closed(dbapi_connection: AdaptedConnection, _record: object, _proxy: object) -> None:
    """A pooled connection whose server side has gone (a restart, an operator's
    ``pg_terminate_backend``) is replaced before use, at no round trip: asyncpg marks a
    connection closed as soon as the event loop reads its end. (A connection that dies
    unnoticed still fails its next statement, and that disconnect recycles the pool.)"""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


class Database:
    """The engine and session factory of one service."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        statement_timeout_ms: int = 15_000,
        pool_timeout_seconds: float = 5.0,
        connect_timeout_seconds: float = 5.0,
        application_name: str = "pms",
    ) -> None:
        server_settings = {"application_name": application_name}
        if statement_timeout_ms:
            server_settings["statement_timeout"] = str(statement_timeout_ms)
        self._asyncpg_url = asyncpg_url(url)
        self._server_settings = server_settings
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout_seconds
        self._connect_timeout = connect_timeout_seconds
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_seconds,
            # No ping before each checkout: it cost three round trips (BEGIN, ";",
            # ROLLBACK) per transaction. A connection the server closed is replaced at
            # checkout instead (``_replace_closed``: the event loop has seen its end).
            pool_pre_ping=False,
            # A statement's error names the statement, never its values: they are patient
            # details and password hashes, and errors end up in logs.
            hide_parameters=True,
            connect_args={"server_settings": server_settings, "timeout": connect_timeout_seconds},
        )
        event.listen(self.engine.sync_engine, "checkout", _replace_closed)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> "Database":
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            statement_timeout_ms=settings.database_statement_timeout_ms,
            pool_timeout_seconds=settings.database_pool_timeout_seconds,
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
            application_name=settings.service_name,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on normal exit and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled asyncpg connection in autocommit: every statement is its own
        transaction. For the hot reads only (see the module docstring)."""
        pool = self._pool or await self._open_pool()
        async with pool.acquire(timeout=self._pool_timeout) as connection:
            try:
                yield connection
            except BaseException as error:
                # A connection that failed with the server going away may not know it yet
                # (it still waits for the end of the failed exchange): given to the next
                # request it would refuse every statement. It is closed, never reused.
                if is_database_unavailable(error):
                    connection.terminate()
                raise

    async def _open_pool(self) -> asyncpg.Pool:
        # Opened on first use (the app factory is synchronous); min_size=1 keeps idle
        # services light, the pool grows with concurrent reads.
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._asyncpg_url,
                    min_size=1,
                    max_size=self._pool_size,
                    server_settings=self._server_settings,
                    reset=_reset_if_in_transaction,
                    timeout=self._connect_timeout,
                )
            return self._pool

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query on both pools (readiness
        check). The lean pool opens here rather than on a service's first read: opening
        it needs a name lookup, and the container network's DNS can lose an answer right
        after containers start, so the first read of a fresh service once waited 30 s on
        it. Readiness takes that wait instead of a caller."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        async with self.connection() as lean:
            await lean.fetchval("SELECT 1")

    async def dispose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await self.engine.dispose()


async def _reset_if_in_transaction(connection: asyncpg.Connection) -> None:
    """What the pool does when a connection comes back. Its default (``RESET ALL``,
    ``UNLISTEN *``...) costs a round trip per read; these connections only run
    autocommit statements and never change session state, so only an open transaction
    (a cancelled request's) needs undoing."""
    if connection.is_in_transaction():
        await connection.reset()


async def database_of(request: Request) -> Database:
    """The service's :class:`Database`, stored on the app state by the app factory.
    (``async``, like every dependency: FastAPI runs a plain function in a thread.)"""
    database: Database = request.app.state.database
    return database


async def request_session(
    database: Annotated[Database, Depends(database_of)],
) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit after the endpoint returns, roll back on error.

    ``scope="function"`` makes FastAPI run the commit before it sends the response (by
    default a yield dependency exits after the response is sent), so a client never sees
    a success for a write that was not committed; a failed commit becomes an error answer.
    """
    async with database.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]


DatabaseDep = Annotated[Database, Depends(database_of)]
"""The service's database, for a route that borrows a connection itself (a hot read)."""


def asyncpg_url(url: str) -> str:
    """The same database's URL for asyncpg itself (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url_for(server_url: str, database: str, driver: str = "postgresql+asyncpg") -> str:
    """The URL of ``database`` on the server of ``server_url`` (any database, any driver)."""
    url = make_url(server_url).set(drivername=driver, database=database)
    return url.render_as_string(hide_password=False)


_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    # No connection: refused, reset, timed out, name not resolved (asyncio reports
    # several addresses that all failed as a plain OSError).
    OSError,
    # The server is starting, shutting down, crashed, or out of connection slots.
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # The statement ran past ``statement_timeout``: a database too slow to answer now.
    asyncpg.QueryCanceledError,
    # Every pooled connection is busy and none came free in time.
    PoolTimeoutError,
)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached or cannot answer now (an
    outage, a restart, exhaustion), rather than that the request or the code is wrong.

    Such a request gets 503 with ``Retry-After`` (gRPC ``UNAVAILABLE``): nothing was
    written, the same request can be sent again. The error may come straight from
    asyncpg (the lean pool) or wrapped by SQLAlchemy, so the whole chain is looked at.
    """
    for link in _error_chain(error):
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, _UNAVAILABLE_ERRORS):
            return True
        # asyncpg's words for a connection lost under a statement, and for one left
        # mid-exchange by a failure as the server went away (its other interface errors
        # are misuse, a bug of ours).
        if isinstance(link, asyncpg.InterfaceError) and "connection is closed" in str(link):
            return True
        if isinstance(link, asyncpg.InternalClientError) and "another operation" in str(link):
            return True
    return False


def _error_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, the errors it was raised from or during, and a DBAPI error's original."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending += [link.__cause__, link.__context__]
        if isinstance(link, DBAPIError) and isinstance(link.orig, BaseException):
            pending.append(link.orig)
