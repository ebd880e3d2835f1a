"""Which errors mean "the database cannot answer now" (503, retry) rather than a bug
(500): the errors asyncpg and SQLAlchemy raise, built as they raise them."""

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from pms_platform.db import is_database_unavailable


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in"),
        PoolTimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        DBAPIError("SELECT 1", None, Exception("lost"), connection_invalidated=True),
        raised_from(RuntimeError("rollback failed"), asyncpg.AdminShutdownError("shutdown")),
    ],
    ids=lambda error: type(error).__name__,
)
def test_outages_restarts_and_exhaustion_are_unavailability(error: BaseException) -> None:
    assert is_database_unavailable(error)


def test_an_error_wrapped_by_sqlalchemy_is_judged_by_the_original() -> None:
    wrapped = DBAPIError("INSERT ...", None, asyncpg.CannotConnectNowError("starting up"))
    assert is_database_unavailable(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg.UndefinedColumnError("column does not exist"),
        asyncpg.InterfaceError("the server expects 2 arguments, 1 was passed"),
        IntegrityError("INSERT ...", None, asyncpg.UniqueViolationError("duplicate")),
    ],
    ids=lambda error: type(error).__name__,
)
def test_bad_requests_and_bugs_are_not_unavailability(error: BaseException) -> None:
    assert not is_database_unavailable(error)
