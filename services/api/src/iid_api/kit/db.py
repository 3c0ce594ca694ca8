"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed. Work for the worker needs no step here:
it is an outbox row written in the transaction (iid_store.outbox). The session carries the
app's process caches (kit/cache.py) to the services.

`SessionDep` is on the primary (IID_DATABASE_URL): every write, and every read that must see
the latest commit. Routes that serve lag-tolerant public reads take `PublicReadSessionDep`
(kit/replica.py) instead, which may open on a streaming replica."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.cache import CACHES_KEY, Caches


@asynccontextmanager
async def open_session(
    factory: async_sessionmaker[AsyncSession], caches: Caches
) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        session.info[CACHES_KEY] = caches
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with open_session(request.app.state.session_factory, request.app.state.caches) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
