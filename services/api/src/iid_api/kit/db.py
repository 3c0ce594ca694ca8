"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed, then hands the regions the committed
transactions marked for recompute to the queue (after commit, never on rollback)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.markers import committed_recomputes
from iid_store.queue import enqueue_recomputes


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()
            marked = committed_recomputes(session)
            if marked:
                await enqueue_recomputes(request.app.state.queue, marked)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
