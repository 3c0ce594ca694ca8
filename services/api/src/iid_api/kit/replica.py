"""The public's reads off a streaming replica (IID_DATABASE_READ_URL), when one is configured.

A route declares that it serves a lag-tolerant public read (published rankings, the summary, a
published verified scorecard, a region's history) by taking `PublicReadSessionDep` instead of
`SessionDep`. For the anonymous public that session opens on the replica; for a signed-in
caller it is the request's session on the primary, because people must see their own writes at
once (a region admin who just saved reads the claims, which a replica may not have replayed
yet). Without a replica every session is on the primary. Nothing is written through a replica
session: a standby refuses writes anyway.

The replica has process caches of its own (`Caches.for_replica`): the primary's listener
clears them, and an entry lives at most IID_DATABASE_READ_CACHE_SECONDS, so a public answer is
at most that much older than the replica's own lag.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from iid_api.kit.cache import Caches
from iid_api.kit.db import SessionDep, only_reads, open_session
from iid_api.kit.principal import PublicPrincipalDep
from iid_api.settings import Settings
from iid_store.db import create_engine, create_session_factory


@dataclass(frozen=True)
class Replica:
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    caches: Caches


def open_replica(settings: Settings, primary_caches: Caches) -> Replica | None:
    """The replica's engine and caches, or None when IID_DATABASE_READ_URL is unset."""
    if settings.database_read_url is None:
        return None
    engine = create_engine(settings, url=settings.database_read_url)
    caches = primary_caches.for_replica(settings.database_read_cache_seconds)
    return Replica(engine, create_session_factory(engine), caches)


async def get_public_read_session(
    request: Request, principal: PublicPrincipalDep, primary: SessionDep
) -> AsyncIterator[AsyncSession]:
    replica: Replica | None = request.app.state.replica
    if replica is None or not principal.is_anonymous:
        yield primary
        return
    reading = only_reads(request)
    async with open_session(replica.session_factory, replica.caches, reading=reading) as session:
        yield session


PublicReadSessionDep = Annotated[AsyncSession, Depends(get_public_read_session)]
