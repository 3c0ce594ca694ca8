"""The process caches of reads off a replica (kit/replica.py): a set apart from the primary's,
so a signed-in caller never gets what a lagging replica gave; cleared by the primary's
notifications; and holding an entry at most IID_DATABASE_READ_CACHE_SECONDS."""

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from iid_api.kit.cache import CACHE_CHANNEL, Caches
from iid_api.settings import Settings

KEY = (2026, "kota", "verified", None, 1, 50)


async def _eventually(condition: Callable[[], bool]) -> None:
    """The listener's connection and notifications arrive on their own task."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "not within 10 s"
        await asyncio.sleep(0.01)


async def test_replica_entries_are_apart_cleared_with_the_primarys_and_short_lived(
    settings: Settings, engine: AsyncEngine
) -> None:
    primary = Caches(settings.database_url, principal_seconds=60)
    replica = primary.for_replica(max_age=5)
    assert (replica.rankings.ttl, replica.regions.ttl, replica.summaries.ttl) == (5, 5, 5)
    assert (primary.rankings.ttl, primary.regions.ttl) == (300, 3600)
    replica.rankings.put(KEY, b"stale", replica.rankings.epoch)
    assert replica.rankings.get(KEY) is None  # nothing is cached before the primary listens

    await primary.start()
    try:
        await _eventually(lambda: replica.rankings.enabled)
        replica.rankings.put(KEY, b"from the replica", replica.rankings.epoch)
        primary.rankings.put(KEY, b"from the primary", primary.rankings.epoch)
        assert (replica.rankings.get(KEY), primary.rankings.get(KEY)) == (
            b"from the replica",
            b"from the primary",
        )
        async with engine.connect() as connection:  # what the rankings' trigger sends
            await connection.execute(text(f"NOTIFY {CACHE_CHANNEL}, 'rankings'"))
            await connection.commit()
        await _eventually(lambda: replica.rankings.get(KEY) is None)
        assert primary.rankings.get(KEY) is None
    finally:
        await primary.stop()
    assert not replica.rankings.enabled
