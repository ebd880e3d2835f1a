"""The original's 15 demo patients, registered on the first start in development.

They go through the registration (:mod:`pms_patients.registration`), so each gets its
event and, once the retry worker reached billing, its billing account, exactly like a
patient created through the API.
"""

from datetime import UTC, datetime

from pms_patients.registration import PatientRegistration
from pms_patients.schemas import PatientCreate
from pms_platform.logging import get_logger
from pms_platform.security import Principal, Role

_log = get_logger("pms.patients.seed")

# (name, email, address, date of birth, registered date)
DEMO_PATIENTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("John Doe", "john.doe@example.com", "123 Main St, Springfield", "1985-06-15", "2024-01-10"),
    ("Jane Smith", "jane.smith@example.com", "456 Elm St, Shelbyville", "1990-09-23", "2023-12-01"),
    (
        "Alice Johnson",
        "alice.johnson@example.com",
        "789 Oak St, Capital City",
        "1978-03-12",
        "2022-06-20",
    ),
    ("Bob Brown", "bob.brown@example.com", "321 Pine St, Springfield", "1982-11-30", "2023-05-14"),
    (
        "Emily Davis",
        "emily.davis@example.com",
        "654 Maple St, Shelbyville",
        "1995-02-05",
        "2024-03-01",
    ),
    (
        "Michael Green",
        "michael.green@example.com",
        "987 Cedar St, Springfield",
        "1988-07-25",
        "2024-02-15",
    ),
    (
        "Sarah Taylor",
        "sarah.taylor@example.com",
        "159 Birch St, Shelbyville",
        "1992-04-18",
        "2023-08-25",
    ),
    (
        "David Wilson",
        "david.wilson@example.com",
        "753 Ash St, Capital City",
        "1975-01-11",
        "2022-10-10",
    ),
    (
        "Laura White",
        "laura.white@example.com",
        "852 Spruce St, Springfield",
        "1989-09-02",
        "2024-04-20",
    ),
    (
        "James Harris",
        "james.harris@example.com",
        "951 Fir St, Shelbyville",
        "1993-11-15",
        "2023-06-30",
    ),
    (
        "Emma Moore",
        "emma.moore@example.com",
        "258 Willow St, Capital City",
        "1980-08-09",
        "2023-01-22",
    ),
    (
        "Ethan Martinez",
        "ethan.martinez@example.com",
        "147 Poplar St, Springfield",
        "1984-05-03",
        "2024-05-12",
    ),
    (
        "Sophia Clark",
        "sophia.clark@example.com",
        "369 Walnut St, Shelbyville",
        "1991-12-25",
        "2022-11-11",
    ),
    (
        "Daniel Lewis",
        "daniel.lewis@example.com",
        "741 Chestnut St, Capital City",
        "1976-06-08",
        "2023-09-19",
    ),
    (
        "Olivia Walker",
        "olivia.walker@example.com",
        "963 Hickory St, Springfield",
        "1987-10-17",
        "2024-06-05",
    ),
)

SEEDER = Principal(
    user_id="system-seed",
    email="seed@system.local",
    role=Role.ADMIN,
    token_id="seed",  # noqa: S106 - an id, not a secret
    expires_at=datetime.max.replace(tzinfo=UTC),
)


async def seed_demo_patients(registration: PatientRegistration) -> int:
    """Register the demo patients when the table is empty; returns how many were added."""
    bodies = [
        PatientCreate.model_validate(
            {
                "name": name,
                "email": email,
                "address": address,
                "dateOfBirth": born,
                "registeredDate": registered,
            }
        )
        for name, email, address, born, registered in DEMO_PATIENTS
    ]
    added = await registration.register_into_empty(SEEDER, bodies)
    if added:
        _log.info("demo patients seeded", count=added)
    return added
