"""Real credentials for tests: API keys and users written straight into the test database,
then used through the API's normal authentication (no test-only backdoor in the app)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.credentials import digest, new_api_key
from iid_store.db import models, session_scope
from iid_store.passwords import hash_password

# Roles that carry no region (a viewer without a region is a national viewer).
NATIONAL_ROLES = ("national_admin", "verifier")
TEST_PASSWORD = "correct horse battery staple"


def _scope(role: str, region: str | None, agency: str | uuid.UUID | None) -> dict[str, Any]:
    return {
        "role": role,
        "region_code": None if role in NATIONAL_ROLES else region,
        "agency_id": uuid.UUID(str(agency)) if agency else None,
    }


async def add_api_key(
    session: AsyncSession,
    role: str,
    region: str | None = None,
    agency: str | uuid.UUID | None = None,
    **fields: Any,
) -> tuple[models.ApiKey, str]:
    """An API key row (flushed, not committed) and the key to send."""
    key, prefix = new_api_key()
    row = models.ApiKey(
        name=fields.pop("name", f"test {role}"),
        prefix=prefix,
        key_hash=digest(key),
        created_by="tests",
        **_scope(role, region, agency),
        **fields,
    )
    session.add(row)
    await session.flush()
    return row, key


async def issue_api_key(
    factory: async_sessionmaker[AsyncSession],
    role: str,
    region: str | None = None,
    agency: str | uuid.UUID | None = None,
) -> str:
    """A committed API key for the role; send it as `bearer(key)`."""
    async with session_scope(factory) as session:
        _, key = await add_api_key(session, role, region, agency)
    return key


async def add_user(
    session: AsyncSession,
    email: str,
    role: str,
    region: str | None = None,
    agency: str | uuid.UUID | None = None,
    *,
    password: str = TEST_PASSWORD,
    password_hash: str | None = None,
) -> models.User:
    """A user row (flushed). Pass a precomputed `password_hash` to skip argon2's cost."""
    user = models.User(
        email=email.lower(),
        password_hash=password_hash or hash_password(password),
        created_by="tests",
        **_scope(role, region, agency),
    )
    session.add(user)
    await session.flush()
    return user


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}
