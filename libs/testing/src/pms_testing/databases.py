"""Scratch databases on the PostgreSQL under test: created (and migrated) per test or per
benchmark run, dropped afterwards."""

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from pms_platform.db import database_url_for
from pms_platform.migrations import upgrade_to_head

DatabaseFactory = Callable[[Path | None], Awaitable[str]]
"""``await database_factory(MIGRATIONS_DIR)``: a new database's URL (the fixture's type)."""


async def create_database(postgres_url: str, migrations_dir: Path | None = None) -> str:
    """A new empty database (migrated when ``migrations_dir`` is given); its asyncpg URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(database_url_for(postgres_url, "postgres", "postgresql"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = database_url_for(postgres_url, name)
    if migrations_dir is not None:
        await upgrade_to_head(migrations_dir, url)
    return url


async def drop_databases(postgres_url: str, urls: list[str]) -> None:
    connection = await asyncpg.connect(database_url_for(postgres_url, "postgres", "postgresql"))
    try:
        for url in urls:
            name = url.rsplit("/", 1)[-1]
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
