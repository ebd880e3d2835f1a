"""Password hashing: argon2id for new hashes; bcrypt (the original's) still verifies and is
replaced by argon2id at the next successful login.

Hashing is deliberately slow and CPU-bound, so every call runs in a worker thread: the
event loop keeps serving other requests while a password is checked.

Each argon2id hash allocates its memory cost (19 MiB) in one block. glibc serves the first
such block with ``mmap``, but freeing it raises glibc's mmap threshold to the block's
size, so every later one comes from the heap of the thread that hashes and stays resident
afterwards: about 19 MiB more per worker thread that ever hashed (measured: a first start
that seeds the users idles at 112 MiB instead of 93, and 36 logins, 6 at a time, leave
215 MiB instead of 95). The hasher pins the threshold at glibc's default, so each block is
mapped and unmapped with its hash (a few page faults).
"""

import asyncio
import ctypes
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from pms_auth.settings import AuthSettings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_GLIBC_DEFAULT_MMAP_THRESHOLD = 128 * 1024


def _keep_large_blocks_mapped() -> None:
    """Pin glibc's mmap threshold (see the module's docstring); elsewhere, nothing."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): no dynamic threshold
        return
    mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT_MMAP_THRESHOLD)


@dataclass(frozen=True)
class Verification:
    matches: bool
    new_hash: str | None
    """A hash with the current parameters to store instead, when the old one is outdated."""


class PasswordHasher:
    def __init__(self, *, memory_cost_kib: int, time_cost: int, parallelism: int) -> None:
        _keep_large_blocks_mapped()
        argon2 = Argon2Hasher(
            memory_cost=memory_cost_kib, time_cost=time_cost, parallelism=parallelism
        )
        self._hash = PasswordHash((argon2, BcryptHasher()))
        # Checked against when the email is unknown, so that an unknown email costs as much
        # time as a wrong password and the answer time does not reveal which accounts exist.
        self._dummy_hash = argon2.hash(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> "PasswordHasher":
        return cls(
            memory_cost_kib=settings.argon2_memory_cost_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> Verification:
        """Check ``password`` against ``stored_hash`` (``None``: an unknown user, checked
        against a dummy hash and never matching)."""
        if stored_hash is None:
            await asyncio.to_thread(self._verify_and_update, password, self._dummy_hash)
            return Verification(matches=False, new_hash=None)
        return await asyncio.to_thread(self._verify_and_update, password, stored_hash)

    def _verify_and_update(self, password: str, stored_hash: str) -> Verification:
        try:
            matches, new_hash = self._hash.verify_and_update(password, stored_hash)
        except (UnknownHashError, ValueError):
            # ValueError: bcrypt refuses passwords over 72 bytes; such a password never
            # matched a bcrypt hash made by the original either.
            return Verification(matches=False, new_hash=None)
        return Verification(matches=matches, new_hash=new_hash)
