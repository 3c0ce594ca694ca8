"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed. Work for the worker needs no step here:
it is an outbox row written in the transaction (iid_store.outbox)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
