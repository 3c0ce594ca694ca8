"""Password hashing (argon2id, argon2-cffi's RFC 9106 defaults) shared by the API and the seed."""

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128  # argon2 accepts more, but a megabyte "password" is an attack


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters (rehash on the next good login)."""
    return _hasher().check_needs_rehash(password_hash)


@lru_cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so that both cases take as long."""
    return hash_password("not-a-real-password-ever")


# argon2 costs tens of milliseconds of CPU and 64 MiB: request handlers run it in a thread, or
# every sign-in would stall every other request of the process.
async def hash_password_in_thread(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_in_thread(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)
