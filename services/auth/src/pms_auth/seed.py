"""The users created on first start (idempotent: existing users are left alone).

Always the original's administrator, ``testuser@test.com``. With the development
password it is stored as a bcrypt hash like the original's ($2b$, cost 12), so the
upgrade to argon2id happens, visibly, at its first login. Development mode adds one
clinician and one analyst, so every role can be tried.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pms_auth.passwords import PasswordHasher
from pms_auth.repository import UserRepository
from pms_auth.settings import (
    DEMO_ANALYST_EMAIL,
    DEMO_CLINICIAN_EMAIL,
    DEVELOPMENT_PASSWORD,
    AuthSettings,
)
from pms_platform.db import Database
from pms_platform.logging import get_logger
from pms_platform.security import Role

# bcrypt ($2b$, cost 12) of "password123": the kind of hash the original stores.
ORIGINAL_ADMIN_BCRYPT_HASH = "$2b$12$Jm7GSM4hCum8PA2kvMTUJ.GdNCmnne3jenSMpwz1/Q7VSgg18kJMq"
ATTEMPT_TIMEOUT_SECONDS = 10.0
RETRY_INTERVAL_SECONDS = 5.0
_log = get_logger("pms_auth.seed")


@dataclass(frozen=True)
class SeedUser:
    email: str
    password: str
    role: Role


def seed_users_of(settings: AuthSettings) -> list[SeedUser]:
    users = [
        SeedUser(
            settings.seed_admin_email, settings.seed_admin_password.get_secret_value(), Role.ADMIN
        )
    ]
    if settings.seeds_demo_users:
        users += [
            SeedUser(
                DEMO_CLINICIAN_EMAIL,
                settings.seed_clinician_password.get_secret_value(),
                Role.CLINICIAN,
            ),
            SeedUser(
                DEMO_ANALYST_EMAIL, settings.seed_analyst_password.get_secret_value(), Role.ANALYST
            ),
        ]
    return users


async def seed_users(database: Database, passwords: PasswordHasher, users: list[SeedUser]) -> None:
    """Create the users that do not exist yet (replicas starting together may race: the
    unique email index lets only one insert win, the others skip)."""
    async with database.transaction() as session:
        existing = await UserRepository(session).existing_emails([user.email for user in users])
    missing = [user for user in users if user.email.lower() not in existing]
    if not missing:
        return
    hashes = [await _hash_for(passwords, user) for user in missing]
    async with database.transaction() as session:
        repository = UserRepository(session)
        for user, password_hash in zip(missing, hashes, strict=True):
            created = await repository.add_unless_email_taken(user.email, password_hash, user.role)
            if created is not None:
                _log.info("seeded user", user_id=str(created.id), role=user.role.value)


async def _hash_for(passwords: PasswordHasher, user: SeedUser) -> str:
    if user.role is Role.ADMIN and user.password == DEVELOPMENT_PASSWORD:
        return ORIGINAL_ADMIN_BCRYPT_HASH
    return await passwords.hash(user.password)


async def _try_seed_users(
    database: Database, passwords: PasswordHasher, users: list[SeedUser]
) -> bool:
    try:
        await asyncio.wait_for(seed_users(database, passwords, users), ATTEMPT_TIMEOUT_SECONDS)
    except Exception as error:  # the database may not be up or migrated yet: try later
        _log.warning("seeding users failed; will retry", error=type(error).__name__)
        return False
    return True


async def _seed_users_until_done(
    database: Database, passwords: PasswordHasher, users: list[SeedUser]
) -> None:
    while True:
        await asyncio.sleep(RETRY_INTERVAL_SECONDS)
        if await _try_seed_users(database, passwords, users):
            return


@contextlib.asynccontextmanager
async def seeding(
    database: Database, passwords: PasswordHasher, users: list[SeedUser]
) -> AsyncIterator[None]:
    """Seed before serving; when the database is not ready yet, keep trying in the
    background rather than refusing to start (health and readiness stay reachable)."""
    retrying: asyncio.Task[None] | None = None
    if not await _try_seed_users(database, passwords, users):
        retrying = asyncio.create_task(_seed_users_until_done(database, passwords, users))
    try:
        yield
    finally:
        if retrying is not None:
            retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retrying
