"""The hand-written migrations and the models describe the same tables."""

import pytest

from pms_analytics.models import MIGRATIONS_DIR, Base
from pms_testing.databases import DatabaseFactory
from pms_testing.migrations import migration_differences

pytestmark = pytest.mark.integration


async def test_the_hand_written_migrations_build_exactly_the_models_tables(
    database_factory: DatabaseFactory,
) -> None:
    database_url = await database_factory(MIGRATIONS_DIR)
    differences = await migration_differences(database_url, Base.metadata)

    assert differences == []
