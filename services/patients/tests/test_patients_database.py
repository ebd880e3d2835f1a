import uuid
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pms_patients.models import MIGRATIONS_DIR, Patient
from pms_platform.db import Database
from pms_testing.databases import DatabaseFactory

pytestmark = pytest.mark.integration


def john_doe(email: str = "john.doe@example.com") -> Patient:
    return Patient(
        name="John Doe",
        email=email,
        address="123 Main St, Springfield",
        date_of_birth=date(1985, 6, 15),
        registered_date=date(2024, 1, 10),
    )


async def test_a_patient_written_through_the_session_is_read_back(
    database_factory: DatabaseFactory,
) -> None:
    database = Database(await database_factory(MIGRATIONS_DIR))
    try:
        async with database.transaction() as session:
            patient = john_doe()
            session.add(patient)
        async with database.transaction() as session:
            stored = (await session.execute(select(Patient))).scalar_one()
        assert isinstance(stored.id, uuid.UUID)
        assert (stored.name, stored.email, stored.date_of_birth) == (
            "John Doe",
            "john.doe@example.com",
            date(1985, 6, 15),
        )
        assert stored.created_at is not None
    finally:
        await database.dispose()


async def test_the_database_refuses_a_second_patient_with_the_same_email_in_any_case(
    database_factory: DatabaseFactory,
) -> None:
    database = Database(await database_factory(MIGRATIONS_DIR))
    try:
        async with database.transaction() as session:
            session.add(john_doe())
        with pytest.raises(IntegrityError):
            async with database.transaction() as session:
                session.add(john_doe(email="JOHN.DOE@example.com"))
    finally:
        await database.dispose()
