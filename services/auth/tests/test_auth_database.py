import pytest
from sqlalchemy.exc import IntegrityError

from pms_auth.models import MIGRATIONS_DIR, Base, User
from pms_platform.db import Database
from pms_testing.databases import DatabaseFactory
from pms_testing.migrations import migration_differences

pytestmark = pytest.mark.integration


async def test_the_migrations_create_exactly_the_tables_of_the_models(
    database_factory: DatabaseFactory,
) -> None:
    database_url = await database_factory(MIGRATIONS_DIR)
    differences = await migration_differences(
        database_url, Base.metadata, compare_server_default=False
    )
    # alembic_version is the migration tool's own table, not one of ours.
    assert [d for d in differences if "alembic_version" not in str(d)] == []


async def test_the_database_refuses_a_second_user_with_the_same_email_in_any_case(
    database_factory: DatabaseFactory,
) -> None:
    database = Database(await database_factory(MIGRATIONS_DIR))
    try:
        async with database.transaction() as session:
            session.add(User(email="a@test.com", password_hash="x", role="ADMIN"))
        with pytest.raises(IntegrityError):
            async with database.transaction() as session:
                session.add(User(email="A@Test.com", password_hash="x", role="ANALYST"))
    finally:
        await database.dispose()
