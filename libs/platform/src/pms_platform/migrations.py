"""Per-service Alembic migrations, run by one call.

Each service keeps ``migrations/`` (an ``env.py`` of two lines that calls
:func:`run_migrations_from_env`, and ``versions/``) beside its ``src/``. No
``alembic.ini`` is needed: :func:`upgrade_to_head` builds the configuration.
"""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Serialises migrations when several replicas of a service start at the same time.
_MIGRATION_LOCK_ID = 7_424_242


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    """Bring the database at ``database_url`` to the newest revision in ``migrations_dir``.

    Alembic is synchronous and our ``env.py`` starts its own event loop, so it runs in a
    worker thread; callers on an event loop are not blocked.
    """
    config = alembic_config(migrations_dir, database_url)
    await asyncio.to_thread(command.upgrade, config, "head")


def _migrate(connection: Connection, target_metadata: MetaData) -> None:
    connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_online(url: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, target_metadata)
    finally:
        await engine.dispose()


def run_migrations_from_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set; run migrations with upgrade_to_head()")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_migrate_online(url, target_metadata))
