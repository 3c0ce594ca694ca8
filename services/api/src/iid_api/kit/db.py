"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed, then hands what the committed
transactions marked for recompute or re-ranking to the queue (after commit, never on rollback)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.markers import committed_work
from iid_store.queue import enqueue_recomputes, enqueue_reranks


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()
            work = committed_work(session)
            await enqueue_recomputes(request.app.state.queue, work.regions)
            await enqueue_reranks(request.app.state.queue, work.clusters)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
