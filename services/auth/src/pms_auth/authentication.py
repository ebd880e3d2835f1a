"""Logging in, refreshing and logging out: :class:`Authentication`, no HTTP in it.

It takes the ``Database`` and opens its own short transactions instead of working in
the request's session, for two reasons. A refusal must still be written (a failed
login counts towards a lock, a reused refresh token revokes its family) although the
answer is an error, which would roll the request's session back. And a password check
takes tens of
milliseconds of CPU in a worker thread: no pooled connection is held meanwhile, so a
flood of logins cannot starve the other endpoints of connections.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pms_auth.lockout import Lockout, ThrottleKey
from pms_auth.models import RefreshToken, User
from pms_auth.passwords import PasswordHasher
from pms_auth.repository import RefreshTokenRepository, UserRepository
from pms_auth.service import Clock, utc_now
from pms_auth.tokens import AccessTokenSigner, hash_refresh_token, new_refresh_token
from pms_platform.db import Database
from pms_platform.errors import TooManyRequestsError, UnauthorizedError
from pms_platform.logging import get_logger

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH_TOKEN = "The refresh token is not valid"  # noqa: S105 - a message
TOO_MANY_FAILURES = "Too many failed logins; try again later"
_log = get_logger("pms_auth.authentication")


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_in: int
    refresh_expires_in: int


class Authentication:
    """Login, refresh and logout, each in transactions of its own (see the module)."""

    def __init__(
        self,
        database: Database,
        passwords: PasswordHasher,
        signer: AccessTokenSigner,
        lockout: Lockout,
        *,
        refresh_ttl: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._database = database
        self._passwords = passwords
        self._signer = signer
        self._lockout = lockout
        self._refresh_ttl = refresh_ttl
        self._clock = clock

    async def login(self, email: str, password: str, client_address: str) -> IssuedTokens:
        """Tokens for valid credentials. Refusals look the same whether the email is
        unknown, the password wrong or the user disabled: 401, or 429 while locked.

        A locked account is refused unchecked. A locked client address is not: many users
        may share it (a NAT; every client, behind a balancer the service does not trust),
        so the password is checked and only a failure gets the address's 429. Guessing
        from a locked address stays bounded: each failure still counts on its account,
        which locks after its own threshold like anywhere else, and costs a full password
        check (the dummy one for an unknown email, so the answer time says nothing).
        """
        account = ThrottleKey.account(email)
        keys = [account, ThrottleKey.address(client_address)]
        async with self._database.transaction() as session:
            locks = await self._lockout.running_locks(session, keys, self._clock())
            user = None if account in locks else await UserRepository(session).find_by_email(email)
        # The longest running lock, computed as before the address stopped refusing
        # unchecked, so a failure from a locked address gets the answer it always got.
        wait = max(locks.values(), default=0.0)
        if account in locks:
            raise _refusal(wait)

        verification = await self._passwords.verify(password, user.password_hash if user else None)
        if user is None or user.disabled or not verification.matches:
            async with self._database.transaction() as session:
                user_id = user.id if user else None
                await self._lockout.record_failure(session, keys, self._clock(), user_id)
            _log.info(
                "login refused", user_id=str(user.id) if user else None, address_locked=bool(wait)
            )
            raise _refusal(wait)

        async with self._database.transaction() as session:
            issued = await self._complete_login(session, user.id, account, verification.new_hash)
        if issued is None:
            raise _refusal(wait)
        _log.info("login succeeded", user_id=str(user.id))
        return issued

    async def _complete_login(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        account: ThrottleKey,
        new_hash: str | None,
    ) -> IssuedTokens | None:
        # The user is read again, locked: it may have been disabled during the check.
        user = await UserRepository(session).get(user_id, for_update=True)
        if user is None or user.disabled:
            return None
        await self._lockout.forget_account(session, account)
        if new_hash is not None:
            await UserRepository(session).set_password_hash(user.id, new_hash)
            _log.info("password hash upgraded", user_id=str(user.id))
        return await self._issue(session, user, family_id=uuid.uuid4(), parent_id=None)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """A new pair for a live refresh token, which is used up. A token presented a
        second time was copied: its whole family (the newest token too) is revoked."""
        async with self._database.transaction() as session:
            issued = await self._rotate(session, refresh_token)
        if issued is None:
            raise UnauthorizedError(INVALID_REFRESH_TOKEN)
        return issued

    async def _rotate(self, session: AsyncSession, refresh_token: str) -> IssuedTokens | None:
        now = self._clock()
        tokens = RefreshTokenRepository(session)
        stored = await tokens.find_by_hash_for_update(hash_refresh_token(refresh_token))
        if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
            return None
        if stored.used_at is not None:
            revoked = await tokens.revoke_family(stored.family_id, now)
            _log.warning(
                "refresh token reused; family revoked",
                user_id=str(stored.user_id),
                family_id=str(stored.family_id),
                revoked=revoked,
            )
            return None
        user = await UserRepository(session).get(stored.user_id)
        if user is None or user.disabled:
            await tokens.revoke_family(stored.family_id, now)
            return None
        await tokens.mark_used(stored.id, now)
        return await self._issue(session, user, family_id=stored.family_id, parent_id=stored.id)

    async def logout(
        self, *, refresh_token: str | None, user_id: uuid.UUID | None, session_id: uuid.UUID | None
    ) -> None:
        """Revoke the family of ``refresh_token`` (its holder may end its session), or
        else the family ``session_id`` that an access token of ``user_id`` names."""
        now = self._clock()
        async with self._database.transaction() as session:
            tokens = RefreshTokenRepository(session)
            if refresh_token is not None:
                stored = await tokens.find_by_hash(hash_refresh_token(refresh_token))
                if stored is not None:
                    await tokens.revoke_family(stored.family_id, now)
                    _log.info("logged out", user_id=str(stored.user_id))
            elif session_id is not None and user_id is not None:
                await tokens.revoke_family(session_id, now, user_id=user_id)
                _log.info("logged out", user_id=str(user_id))

    async def _issue(
        self,
        session: AsyncSession,
        user: User,
        *,
        family_id: uuid.UUID,
        parent_id: uuid.UUID | None,
    ) -> IssuedTokens:
        now = self._clock()
        refresh_value, refresh_hash = new_refresh_token()
        await RefreshTokenRepository(session).add(
            RefreshToken(
                id=uuid.uuid4(),
                token_hash=refresh_hash,
                user_id=user.id,
                family_id=family_id,
                parent_id=parent_id,
                created_at=now,
                expires_at=now + self._refresh_ttl,
            )
        )
        access = self._signer.sign(
            user_id=user.id, email=user.email, role=user.role, session_id=family_id, now=now
        )
        return IssuedTokens(
            access_token=access.value,
            refresh_token=refresh_value,
            access_expires_in=int(self._signer.ttl.total_seconds()),
            refresh_expires_in=int(self._refresh_ttl.total_seconds()),
        )


def _refusal(wait: float) -> TooManyRequestsError | UnauthorizedError:
    """The one answer to every refused login: 429 while a lock runs, otherwise 401."""
    if wait:
        return TooManyRequestsError(TOO_MANY_FAILURES, math.ceil(wait))
    return UnauthorizedError(INVALID_CREDENTIALS)
