"""Sign-in with throttling and lockout, rotating refresh tokens, logout, password change.

Failed-login counters live in PostgreSQL, so every API process sees the same count and a
restart forgets nothing: on the user row, or for an email without an active account in
`login_throttles`, so that unknown emails are slowed down and locked exactly like known
ones and the answers do not reveal which emails have accounts. Refresh tokens rotate: each
is spent once; presenting a spent one means it was copied, so the whole family (that sign-in)
is revoked.
"""

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.auth import repository
from iid_api.auth.schemas import TokenOut
from iid_api.kit.credentials import digest, encode_access_token, new_refresh_token
from iid_api.kit.errors import InvalidInput, TooManyRequests, Unauthorized
from iid_api.kit.principal import CHALLENGE, user_subject
from iid_api.settings import Settings
from iid_store.db.models import LoginCounters, RefreshFamily, RefreshToken, User
from iid_store.passwords import (
    dummy_hash,
    hash_password_in_thread,
    needs_rehash,
    verify_password_in_thread,
)

BAD_CREDENTIALS = "wrong email or password"


# --- sign-in --------------------------------------------------------------------------------
async def login(session: AsyncSession, settings: Settings, email: str, password: str) -> TokenOut:
    email = email.strip().lower()
    user = await repository.user_by_email_locked(session, email)
    account = user if user is not None and user.active else None
    counters: LoginCounters = account or await repository.throttle_locked(session, email)
    now = datetime.now(UTC)
    wait = seconds_to_wait(counters, settings, now)
    if wait:
        await _failed(session, email, counters, user, "throttled", retry_after=wait)
    if account is None:
        # unknown and known emails take as long
        await verify_password_in_thread(dummy_hash(), password)
        _count_failure(counters, settings, now)
        await _failed(session, email, counters, user, "unknown or inactive account")
    if not await verify_password_in_thread(account.password_hash, password):
        _count_failure(account, settings, now)
        await _failed(session, email, account, account, "wrong password")
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    if needs_rehash(account.password_hash):
        account.password_hash = await hash_password_in_thread(password)
    family = await repository.new_family(session, account.id)
    tokens = await _issue(session, settings, account, family.id, now)
    await _audit(session, account, "login", {"family_id": str(family.id)})
    await session.commit()
    return tokens


def seconds_to_wait(counters: LoginCounters, settings: Settings, now: datetime) -> int:
    """0, or how long this account must wait before its password is even checked."""
    if counters.locked_until is not None and counters.locked_until > now:
        return math.ceil((counters.locked_until - now).total_seconds())
    excess = counters.failed_logins - settings.login_slowdown_after
    if excess < 0 or counters.last_failed_login_at is None:
        return 0
    delay = min(2**excess, settings.login_max_delay_seconds)
    ready = counters.last_failed_login_at + timedelta(seconds=delay)
    return max(0, math.ceil((ready - now).total_seconds()))


def _count_failure(counters: LoginCounters, settings: Settings, now: datetime) -> None:
    counters.failed_logins += 1
    counters.last_failed_login_at = now
    if counters.failed_logins >= settings.login_lock_after:
        counters.locked_until = now + timedelta(minutes=settings.login_lock_minutes)


async def _failed(
    session: AsyncSession,
    email: str,
    counters: LoginCounters,
    user: User | None,
    reason: str,
    *,
    retry_after: int | None = None,
) -> NoReturn:
    """Record the failed login (and the counters) for good, then refuse."""
    after: dict[str, object] = {
        "email": email,
        "reason": reason,
        "failed_logins": counters.failed_logins,
    }
    await record_audit(
        session,
        actor="anonymous",
        action="login_failed",
        object_type="user",
        object_id=user.id if user is not None else email[:80],
        region_code=user.region_code if user is not None else None,
        after=after,
    )
    await session.commit()
    if retry_after is not None:
        raise TooManyRequests(
            f"too many failed sign-ins: try again in {retry_after} s", retry_after=retry_after
        )
    raise Unauthorized(BAD_CREDENTIALS, headers=CHALLENGE)


async def _issue(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID, now: datetime
) -> TokenOut:
    refresh = new_refresh_token()
    refresh_lifetime = timedelta(days=settings.refresh_token_days)
    repository.add_refresh_token(session, family_id, digest(refresh), now + refresh_lifetime)
    access_lifetime = timedelta(minutes=settings.access_token_minutes)
    secret = settings.secret_key.get_secret_value()
    return TokenOut(
        access_token=encode_access_token(secret, user.id, family_id, access_lifetime, now),
        expires_in=int(access_lifetime.total_seconds()),
        refresh_token=refresh,
        refresh_expires_in=int(refresh_lifetime.total_seconds()),
    )


async def _audit(session: AsyncSession, user: User, action: str, after: dict[str, str]) -> None:
    await record_audit(
        session,
        actor=user_subject(user),
        action=action,
        object_type="user",
        object_id=user.id,
        region_code=user.region_code,
        after=after,
    )


# --- refresh and logout ---------------------------------------------------------------------
async def _spendable(
    session: AsyncSession, token: str
) -> tuple[RefreshToken, RefreshFamily, User] | None:
    row = await repository.refresh_token_locked(session, digest(token))
    if row is None:
        return None
    family = await repository.family_locked(session, row.family_id)
    assert family is not None, "refresh tokens reference their family (foreign key)"
    user = await repository.user(session, family.user_id)
    assert user is not None
    return row, family, user


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenOut:
    found = await _spendable(session, token)
    now = datetime.now(UTC)
    if found is None or found[1].revoked_at is not None or not found[2].active:
        raise Unauthorized("the refresh token is not valid; sign in again", headers=CHALLENGE)
    row, family, user = found
    if row.used_at is not None:
        # a spent token came back: someone holds a copy, so this sign-in is over for both
        family.revoked_at, family.revoked_reason = now, "refresh_token_reuse"
        await _audit(session, user, "refresh_reuse", {"family_id": str(family.id)})
        await session.commit()
        raise Unauthorized(
            "the refresh token was already used: this sign-in is revoked; sign in again",
            headers=CHALLENGE,
        )
    if row.expires_at <= now:
        raise Unauthorized("the refresh token has expired; sign in again", headers=CHALLENGE)
    row.used_at = now
    tokens = await _issue(session, settings, user, family.id, now)
    await session.commit()
    return tokens


async def logout(session: AsyncSession, token: str) -> None:
    """Revoke the sign-in the refresh token belongs to; unknown tokens are ignored alike."""
    found = await _spendable(session, token)
    if found is None or found[1].revoked_at is not None:
        return
    _, family, user = found
    family.revoked_at, family.revoked_reason = datetime.now(UTC), "logout"
    await _audit(session, user, "logout", {"family_id": str(family.id)})
    await session.commit()


async def change_password(
    session: AsyncSession, user_id: uuid.UUID, current: str, new: str
) -> None:
    user = await repository.user_locked(session, user_id)
    assert user is not None, "the principal was just loaded from this user"
    if not await verify_password_in_thread(user.password_hash, current):
        raise InvalidInput.at("/body/current_password", "the current password is wrong")
    if current == new:
        raise InvalidInput.at("/body/new_password", "the new password equals the current one")
    user.password_hash = await hash_password_in_thread(new)
    await repository.revoke_families(session, user.id, "password_changed")
    await _audit(session, user, "change_password", {})
    await session.commit()
