"""``migration_differences``: do the hand-written migrations build the models' tables?"""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from pms_platform.db import Database


async def migration_differences(
    database_url: str, metadata: MetaData, *, compare_server_default: bool = True
) -> list[object]:
    """What Alembic's autogenerate finds between a migrated database and ``metadata``:
    empty when the hand-written migrations build exactly the models' tables."""

    def compare(connection: Connection) -> list[object]:
        options = {"compare_type": True, "compare_server_default": compare_server_default}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))

    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await database.dispose()
