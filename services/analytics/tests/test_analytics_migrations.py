"""The hand-written migrations and the models describe the same tables."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from pms_analytics.models import MIGRATIONS_DIR, Base
from pms_platform.db import Database
from pms_platform.testing import DatabaseFactory

pytestmark = pytest.mark.integration


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_hand_written_migrations_build_exactly_the_models_tables(
    database_factory: DatabaseFactory,
) -> None:
    database = Database(await database_factory(MIGRATIONS_DIR))
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await database.dispose()

    assert differences == []
