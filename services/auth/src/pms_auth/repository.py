"""All of the auth service's SQL: users, refresh tokens and login throttles."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms_auth.models import LoginThrottle, RefreshToken, User
from pms_platform.security import Role


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find_by_email(self, email: str) -> User | None:
        """The user with this email in any case (served by the ``lower(email)`` index)."""
        query = select(User).where(func.lower(User.email) == email.strip().lower())
        return await self._session.scalar(query)

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        query = select(User).where(User.id == user_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self._session.scalar(query)

    async def add_unless_email_taken(
        self, email: str, password_hash: str, role: Role
    ) -> User | None:
        """Insert a user; ``None`` when the email is taken (no error, so the transaction
        stays usable and concurrent creations cannot both succeed)."""
        statement = (
            insert(User)
            .values(id=uuid.uuid4(), email=email, password_hash=password_hash, role=role.value)
            .on_conflict_do_nothing()
            .returning(User)
        )
        return await self._session.scalar(statement)

    async def existing_emails(self, emails: Sequence[str]) -> set[str]:
        """Which of ``emails`` (compared in lower case) already belong to a user."""
        lowered = [email.lower() for email in emails]
        query = select(func.lower(User.email)).where(func.lower(User.email).in_(lowered))
        return set((await self._session.scalars(query)).all())

    async def page(self, offset: int, limit: int) -> list[User]:
        query = select(User).order_by(User.created_at, User.id).offset(offset).limit(limit)
        return list((await self._session.scalars(query)).all())

    async def count(self) -> int:
        return await self._session.scalar(select(func.count()).select_from(User)) or 0

    async def lock_active_admin_ids(self) -> list[uuid.UUID]:
        """The enabled administrators, locked until the transaction ends, so that two
        concurrent changes cannot together remove the last one."""
        query = (
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.disabled.is_(False))
            .order_by(User.id)
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def save(self, user: User) -> None:
        """Write the changes made to ``user`` and read it back (``updated_at`` and the
        like are the database's)."""
        await self._session.flush()
        await self._session.refresh(user)

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        statement = (
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash, updated_at=func.now())
        )
        await self._session.execute(statement)


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: RefreshToken) -> None:
        self._session.add(token)
        await self._session.flush()

    async def find_by_hash_for_update(self, token_hash: bytes) -> RefreshToken | None:
        """The token with this hash, locked: two refreshes with one token are serialised."""
        query = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        return await self._session.scalar(query)

    async def find_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        return await self._session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> None:
        statement = update(RefreshToken).where(RefreshToken.id == token_id).values(used_at=now)
        await self._session.execute(statement)

    async def revoke_family(
        self, family_id: uuid.UUID, now: datetime, *, user_id: uuid.UUID | None = None
    ) -> int:
        """Revoke every live token of a family (only ``user_id``'s, when given)."""
        statement = update(RefreshToken).where(
            RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None)
        )
        if user_id is not None:
            statement = statement.where(RefreshToken.user_id == user_id)
        result = await self._session.execute(statement.values(revoked_at=now))
        return int(getattr(result, "rowcount", 0))

    async def revoke_all_of_user(self, user_id: uuid.UUID, now: datetime) -> int:
        statement = (
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        result = await self._session.execute(statement)
        return int(getattr(result, "rowcount", 0))


ThrottleKeyTuple = tuple[str, str]


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, keys: Sequence[ThrottleKeyTuple]) -> list[LoginThrottle]:
        query = select(LoginThrottle).where(
            tuple_(LoginThrottle.scope, LoginThrottle.subject).in_(list(keys))
        )
        return list((await self._session.scalars(query)).all())

    async def lock(self, key: ThrottleKeyTuple, now: datetime) -> LoginThrottle:
        """The row of ``key`` (created when missing), locked until the transaction ends."""
        scope, subject = key
        await self._session.execute(
            insert(LoginThrottle)
            .values(
                scope=scope,
                subject=subject,
                failures=0,
                window_started_at=now,
                last_event_at=now,
                lock_count=0,
            )
            .on_conflict_do_nothing()
        )
        query = (
            select(LoginThrottle)
            .where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self._session.scalars(query)).one()

    async def save(self) -> None:
        """Write the changes made to the rows that :meth:`lock` returned."""
        await self._session.flush()

    async def mark_unlocked(self, row: LoginThrottle) -> bool:
        """Clear a lock that has run out; ``False`` when another request changed the row
        meanwhile (so each unlock is recorded once). The lock's end counts as activity."""
        locked_until = row.locked_until
        statement = (
            update(LoginThrottle)
            .where(
                LoginThrottle.scope == row.scope,
                LoginThrottle.subject == row.subject,
                LoginThrottle.locked_until == locked_until,
            )
            .values(
                locked_until=None,
                last_event_at=func.greatest(LoginThrottle.last_event_at, locked_until),
            )
        )
        result = await self._session.execute(statement)
        return int(getattr(result, "rowcount", 0)) == 1

    async def remove(self, key: ThrottleKeyTuple) -> None:
        scope, subject = key
        await self._session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.scope == scope, LoginThrottle.subject == subject
            )
        )
