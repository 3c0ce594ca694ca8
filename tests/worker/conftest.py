"""Fixtures of the worker tests: a job queue on a private Redis server of the test's own."""

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

from tests.support.servers import PrivateRedis


@pytest.fixture
async def queue() -> AsyncIterator[ArqRedis]:
    redis = PrivateRedis()
    redis.start()
    client = ArqRedis(connection_pool=ConnectionPool.from_url(redis.url))
    try:
        yield client
    finally:
        await client.aclose()
        redis.stop()
