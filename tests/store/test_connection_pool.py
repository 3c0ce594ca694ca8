"""A process's connection pool (iid_store.db.create_engine) keeps every connection it opens
and opens no more than `database_pool_size`: under load a request waits for a pooled
connection rather than paying for a new one (PostgreSQL's fork, type introspection, its
statements prepared again), which an overflow connection, closed on its return, made it do."""

from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import event, exc, text

from iid_store.config import CommonSettings
from iid_store.db import create_engine

POOL_SIZE = 4


async def test_the_pool_keeps_what_it_opens_and_opens_no_more(settings: CommonSettings) -> None:
    engine = create_engine(
        settings.model_copy(update={"database_pool_size": POOL_SIZE, "database_pool_timeout": 0.2})
    )
    opened: list[Any] = []
    event.listen(
        engine.sync_engine.pool, "connect", lambda connection, _: opened.append(connection)
    )
    try:
        for _ in range(3):  # three bursts of as many requests at once as the pool holds
            async with AsyncExitStack() as held:
                for _ in range(POOL_SIZE):
                    connection = await held.enter_async_context(engine.connect())
                    assert await connection.scalar(text("SELECT 1")) == 1
                # one more waits for a connection to come back (here: in vain)
                with pytest.raises(exc.TimeoutError):
                    async with engine.connect():
                        pass
        assert len(opened) == POOL_SIZE
    finally:
        await engine.dispose()
