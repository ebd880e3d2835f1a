"""Readiness check and idempotent creation of the service databases (with pg_trgm)."""

import asyncio
import time
from collections.abc import Callable

import asyncpg

from pms_cli.infra.console import warn
from pms_cli.infra.errors import InfraError
from pms_cli.infra.urls import database_url, redact_url

SERVICE_DATABASES = ("pms_auth", "pms_patients", "pms_billing", "pms_analytics")
EXTENSIONS = ("pg_trgm",)
CONNECT_TIMEOUT_SECONDS = 5.0

# Waiting will not fix these: report them at once.
_FATAL_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


async def _select_one(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def probe_postgres(url: str) -> bool:
    """Whether a real connection to ``url`` answers ``SELECT 1`` right now."""
    try:
        await _select_one(url)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True


async def wait_for_postgres(
    url: str,
    *,
    max_wait: float,
    still_running: Callable[[], bool],
    log_hint: Callable[[], str] = str,
) -> None:
    """Wait until ``url`` answers ``SELECT 1``; fail at once if the server died."""
    deadline = time.monotonic() + max_wait
    while True:
        try:
            await _select_one(url)
        except _FATAL_ERRORS as error:
            raise InfraError(f"PostgreSQL at {redact_url(url)} refused us: {error}") from None
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            if not still_running():
                raise InfraError(f"PostgreSQL exited while starting.{log_hint()}") from None
            if time.monotonic() >= deadline:
                raise InfraError(
                    f"PostgreSQL at {redact_url(url)} did not answer within {max_wait:.0f} s "
                    f"({type(e).__name__}: {e}).{log_hint()}"
                ) from None
            await asyncio.sleep(0.25)
        else:
            return


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _create_database(admin: asyncpg.Connection, name: str, server: str) -> None:
    exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    if exists:
        return
    try:
        await admin.execute(f"CREATE DATABASE {_quote_identifier(name)}")
    except asyncpg.DuplicateDatabaseError:
        return  # another invocation created it meanwhile
    except asyncpg.PostgresError as error:
        raise InfraError(f"could not create database {name} on {server}: {error}") from None


async def _enable_extensions(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        for extension in EXTENSIONS:
            available = await connection.fetchval(
                "SELECT 1 FROM pg_available_extensions WHERE name = $1", extension
            )
            if not available:
                warn(f"extension {extension} is not available on this PostgreSQL server")
                continue
            try:
                await connection.execute(
                    f"CREATE EXTENSION IF NOT EXISTS {_quote_identifier(extension)}"
                )
            except asyncpg.UniqueViolationError:
                pass  # created concurrently by another invocation
            except asyncpg.InsufficientPrivilegeError as error:
                warn(f"could not enable {extension}: {error}")
    finally:
        await connection.close()


async def ensure_databases(admin_url: str, names: tuple[str, ...] = SERVICE_DATABASES) -> None:
    """Create the service databases that are missing and enable their extensions."""
    server = redact_url(admin_url)
    admin = await asyncpg.connect(admin_url, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        for name in names:
            # CREATE DATABASE cannot run concurrently on one connection: one at a time.
            await _create_database(admin, name, server)
    finally:
        await admin.close()
    await asyncio.gather(
        *(_enable_extensions(database_url(admin_url, name, driver=None)) for name in names)
    )
