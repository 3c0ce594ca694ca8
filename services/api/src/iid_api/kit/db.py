"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed. Work for the worker needs no step here:
it is an outbox row written in the transaction (iid_store.outbox). The session carries the
app's process caches (kit/cache.py) to the services."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.cache import CACHES_KEY


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        session.info[CACHES_KEY] = request.app.state.caches
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
