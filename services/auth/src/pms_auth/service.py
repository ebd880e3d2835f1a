"""The auth domain: :class:`UserService`, the users behind ``/users`` and ``/me``.

Built once in ``app.py``; every method works in the session of the caller's transaction
(the request's, committed by it) and never commits. Passwords are hashed before the
first query, so no connection is held during the hashing. The flows that need
transactions of their own (login, refresh, logout) are in ``authentication.py``.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pms_auth.models import User
from pms_auth.passwords import PasswordHasher
from pms_auth.repository import RefreshTokenRepository, UserRepository
from pms_auth.schemas import UserCreate, UserPageQuery, UserPatch
from pms_platform.errors import (
    BEARER_TOKEN_NOT_VALID,
    ConflictError,
    NotFoundError,
    UnauthorizedError,
)
from pms_platform.logging import get_logger
from pms_platform.security import Principal, Role

Clock = Callable[[], datetime]
_log = get_logger("pms_auth.users")


def utc_now() -> datetime:
    return datetime.now(UTC)


class UserService:
    """Creates, lists, reads and changes users; the caller's own account (``/me``)."""

    def __init__(self, passwords: PasswordHasher, clock: Clock = utc_now) -> None:
        self._passwords = passwords
        self._clock = clock

    async def create(self, session: AsyncSession, data: UserCreate, actor: Principal) -> User:
        password_hash = await self._passwords.hash(data.password)
        user = await UserRepository(session).add_unless_email_taken(
            data.email, password_hash, data.role
        )
        if user is None:
            message = "Email address already exists"
            raise ConflictError(message, errors={"email": message})
        _log.info("user created", user_id=str(user.id), role=user.role, by=actor.user_id)
        return user

    async def page(self, session: AsyncSession, query: UserPageQuery) -> tuple[list[User], int]:
        """One page of users (oldest first) and how many there are in all."""
        users = UserRepository(session)
        offset = (query.page - 1) * query.size
        return await users.page(offset, query.size), await users.count()

    async def get(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await UserRepository(session).get(user_id)
        if user is None:
            raise NotFoundError("User not found")
        return user

    async def me(self, session: AsyncSession, principal: Principal) -> User:
        """The caller's account; 401 once it is gone or disabled (its token may live on)."""
        try:
            user_id = uuid.UUID(principal.user_id)
        except ValueError:
            raise UnauthorizedError(BEARER_TOKEN_NOT_VALID, invalid_token=True) from None
        user = await UserRepository(session).get(user_id)
        if user is None or user.disabled:
            raise UnauthorizedError(BEARER_TOKEN_NOT_VALID, invalid_token=True)
        return user

    async def update(
        self, session: AsyncSession, user_id: uuid.UUID, patch: UserPatch, actor: Principal
    ) -> User:
        """Change role and/or disabled. Disabling ends the user's sessions (refresh tokens);
        the last enabled administrator can be neither demoted nor disabled."""
        users = UserRepository(session)
        user = await self.get(session, user_id)
        if _removes_an_admin(user, patch):
            await _refuse_removing_the_last_admin(users, user.id)
        user = await users.get(user_id, for_update=True) or user
        if patch.role is not None and patch.role != user.role:
            _log.info(
                "user role changed", user_id=str(user.id), role=patch.role.value, by=actor.user_id
            )
            user.role = patch.role.value
        if patch.disabled is not None and patch.disabled != user.disabled:
            user.disabled = patch.disabled
            if patch.disabled:
                await RefreshTokenRepository(session).revoke_all_of_user(user.id, self._clock())
            event = "user disabled" if patch.disabled else "user enabled"
            _log.info(event, user_id=str(user.id), by=actor.user_id)
        await users.save(user)
        return user

    async def set_password(
        self, session: AsyncSession, user_id: uuid.UUID, password: str, actor: Principal
    ) -> None:
        """Replace the password and end the user's sessions (a reset is often a response
        to a leak; whoever held the old password must not keep a refresh token)."""
        password_hash = await self._passwords.hash(password)
        user = await self.get(session, user_id)
        await UserRepository(session).set_password_hash(user.id, password_hash)
        await RefreshTokenRepository(session).revoke_all_of_user(user.id, self._clock())
        _log.info("password set", user_id=str(user.id), by=actor.user_id)


async def _refuse_removing_the_last_admin(users: UserRepository, user_id: uuid.UUID) -> None:
    # Every enabled admin is locked (in id order) before the change, so that two
    # concurrent requests cannot each remove one of the last two.
    if not set(await users.lock_active_admin_ids()) - {user_id}:
        raise ConflictError("At least one enabled administrator must remain")


def _removes_an_admin(user: User, patch: UserPatch) -> bool:
    if user.role != Role.ADMIN or user.disabled:
        return False
    demoted = patch.role is not None and patch.role != Role.ADMIN
    return demoted or patch.disabled is True
