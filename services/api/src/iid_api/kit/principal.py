"""Who is calling: the one `current_principal` dependency every endpoint takes.

Credentials, in this order:
- `Authorization: Bearer <access token>`: a short-lived JWT from `POST /v1/auth/token`; it
  names the user and the sign-in (refresh token family);
- `Authorization: Bearer iid_...` or `X-API-Key: iid_...`: an API key (government systems).

Who a credential belongs to is read through the process cache (kit/cache.py): a logout, a
revoked key or a deactivated user notifies every API process when it commits, so it takes
effect at the next request; without that notification channel nothing is cached. A key's
expiry and a token's own expiry are checked on every request.

No credentials at all make the caller the anonymous public. `current_principal` (and so
`PrincipalDep` and `ScopeDep`) refuses the public with 401; only endpoints that serve
published data take `PublicPrincipalDep` / `PublicScopeDep` instead. Bad credentials are a
401 everywhere, even on public endpoints: a client must learn that its token is broken.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.auth import repository
from iid_api.kit.cache import caches_of
from iid_api.kit.credentials import (
    InvalidToken,
    decode_access_token,
    digest,
    looks_like_api_key,
)
from iid_api.kit.db import SessionDep
from iid_api.kit.errors import Unauthorized
from iid_store.db.models import ApiKey, User
from iid_store.vocab import Role as Role  # the one list of roles; the public is ANONYMOUS


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    region_code: str | None = None
    agency_id: uuid.UUID | None = None
    # which credential: a signed-in user, or an API key (neither for the public)
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is Role.ANONYMOUS

    @property
    def is_national(self) -> bool:
        return self.region_code is None and not self.is_anonymous


ANONYMOUS = Principal(subject="anonymous", role=Role.ANONYMOUS)
CHALLENGE = {"WWW-Authenticate": "Bearer"}

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    scheme_name="token",
    description="An access token from /v1/auth/token, or an API key (iid_...)",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="api_key", description="An API key"
)


def user_subject(user: User) -> str:
    """How a signed-in user is named in `Principal.subject` and the audit trail."""
    return f"user:{user.email}"


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers=CHALLENGE)


@dataclass(frozen=True)
class KeyHolder:
    """A cached API key: who it acts as, and until when."""

    principal: Principal
    expires_at: datetime | None


def api_key_entry(key_digest: str) -> tuple[str, str]:
    """The principal cache's key of an API key, by its digest."""
    return ("key", key_digest)


async def _from_api_key(request: Request, session: AsyncSession, key: str) -> Principal:
    key_digest = digest(key)

    async def load() -> KeyHolder | None:
        row = await repository.api_key_by_digest(session, key_digest)
        if row is None or row.revoked_at is not None:
            return None
        await _record_use(request, row)
        principal = Principal(
            subject=f"key:{row.prefix}",
            role=Role(row.role),
            region_code=row.region_code,
            agency_id=row.agency_id,
            api_key_id=row.id,
        )
        return KeyHolder(principal, row.expires_at)

    holder = await caches_of(session).principals.get_or_load(api_key_entry(key_digest), load)
    if not isinstance(holder, KeyHolder) or (
        holder.expires_at is not None and holder.expires_at <= datetime.now(UTC)
    ):
        raise _unauthorized("the API key is not valid (unknown, revoked or expired)")
    return holder.principal


async def _record_use(request: Request, row: ApiKey) -> None:
    """The key's last use, at most every `api_key_touch_seconds`: checked when the key is
    read from the database, which the cache makes at most once a minute or so per key."""
    now = datetime.now(UTC)
    touch_every = timedelta(seconds=request.app.state.settings.api_key_touch_seconds)
    if row.last_used_at is None or now - row.last_used_at >= touch_every:
        # a session of its own, committed at once: the request may still fail (the use
        # happened anyway), and the request's session forgets what it changes at commit
        async with request.app.state.session_factory() as session:
            await repository.touch_api_keys(session, [row.id], now)
            await session.commit()


async def _from_access_token(request: Request, session: AsyncSession, token: str) -> Principal:
    secret = request.app.state.settings.secret_key.get_secret_value()
    try:
        claims = decode_access_token(secret, token)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc

    async def load() -> Principal | None:
        user = await repository.user_of_sign_in(session, claims.user_id, claims.family_id)
        if user is None:
            return None
        return Principal(
            subject=user_subject(user),
            role=Role(user.role),
            region_code=user.region_code,
            agency_id=user.agency_id,
            user_id=user.id,
        )

    sign_in = ("token", claims.user_id, claims.family_id)
    principal = await caches_of(session).principals.get_or_load(sign_in, load)
    if not isinstance(principal, Principal):
        raise _unauthorized("the sign-in has ended (logged out, revoked or user deactivated)")
    return principal


async def public_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, or `ANONYMOUS` when no credentials were sent."""
    credential = bearer or api_key
    if not credential:
        return ANONYMOUS
    return await principal_of_credential(request, session, credential)


async def principal_of_credential(
    request: Request, session: AsyncSession, credential: str
) -> Principal:
    """Who an API key or access token stands for, now: 401 when it is unknown, expired,
    revoked, or its sign-in ended (the one reading of credentials, also the idempotency
    records')."""
    if looks_like_api_key(credential):
        return await _from_api_key(request, session, credential)
    return await _from_access_token(request, session, credential)


async def current_principal(
    principal: Annotated[Principal, Depends(public_principal)],
) -> Principal:
    """The signed-in caller; the public answers 401."""
    if principal.is_anonymous:
        raise _unauthorized(
            "credentials required: send Authorization: Bearer <access token or API key> "
            "or X-API-Key"
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
PublicPrincipalDep = Annotated[Principal, Depends(public_principal)]
