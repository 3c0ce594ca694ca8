"""Auth's SQL: credentials to principals, accounts and their login counters, refresh tokens
and the sign-ins (families) they rotate in."""

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import ApiKey, LoginThrottle, RefreshFamily, RefreshToken, User


# --- credentials -------------------------------------------------------------------------------
async def api_key_by_digest(session: AsyncSession, key_digest: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_digest))


async def user_of_sign_in(
    session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID
) -> User | None:
    """The active user whose sign-in (refresh family) is not revoked."""
    return await session.scalar(
        select(User)
        .join(RefreshFamily, RefreshFamily.user_id == User.id)
        .where(
            User.id == user_id,
            User.active,
            RefreshFamily.id == family_id,
            RefreshFamily.revoked_at.is_(None),
        )
    )


async def touch_api_keys(session: AsyncSession, used: Collection[uuid.UUID], at: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id.in_(used)).values(last_used_at=at))


# --- accounts ----------------------------------------------------------------------------------
async def user_by_email_locked(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email).with_for_update())


async def user_locked(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id, with_for_update=True)


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def throttle_locked(session: AsyncSession, email: str) -> LoginThrottle:
    """The email's throttle row, created if needed and locked (concurrent attempts count one
    after the other)."""
    await session.execute(insert(LoginThrottle).values(email=email).on_conflict_do_nothing())
    throttle = await session.scalar(
        select(LoginThrottle).where(LoginThrottle.email == email).with_for_update()
    )
    assert throttle is not None  # inserted above, and only the nightly cleanup deletes
    return throttle


# --- sign-ins and refresh tokens ----------------------------------------------------------------
async def new_family(session: AsyncSession, user_id: uuid.UUID) -> RefreshFamily:
    family = RefreshFamily(user_id=user_id)
    session.add(family)
    await session.flush()
    return family


async def refresh_token_locked(session: AsyncSession, token_digest: str) -> RefreshToken | None:
    return await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest).with_for_update()
    )


async def family_locked(session: AsyncSession, family_id: uuid.UUID) -> RefreshFamily | None:
    return await session.get(RefreshFamily, family_id, with_for_update=True)


def add_refresh_token(
    session: AsyncSession, family_id: uuid.UUID, token_digest: str, expires_at: datetime
) -> None:
    session.add(RefreshToken(family_id=family_id, token_hash=token_digest, expires_at=expires_at))


async def revoke_families(session: AsyncSession, user_id: uuid.UUID, reason: str) -> None:
    """End every sign-in of the user (their access tokens stop working at once)."""
    await session.execute(
        update(RefreshFamily)
        .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
