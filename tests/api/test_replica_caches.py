"""The process caches of reads off a replica (kit/replica.py): a set apart from the primary's,
so a signed-in caller never gets what a lagging replica gave; cleared whenever the primary's
are (its notifications, its commits); on only while the primary's listener is; holding an
entry at most IID_DATABASE_READ_CACHE_SECONDS."""

import asyncio

from iid_api.kit.cache import Caches
from iid_api.settings import Settings

KEY = (2026, "kota", "verified", None, 1, 50)


async def test_replica_entries_are_apart_cleared_with_the_primarys_and_short_lived(
    settings: Settings,
) -> None:
    primary = Caches(settings.database_url, principal_seconds=60)
    replica = primary.for_replica(max_age=5)
    assert (replica.rankings.ttl, replica.regions.ttl, replica.summaries.ttl) == (5, 5, 5)
    assert (primary.rankings.ttl, primary.regions.ttl) == (300, 3600)
    replica.rankings.put(KEY, b"stale", replica.rankings.epoch)
    assert replica.rankings.get(KEY) is None  # nothing is cached before the primary listens

    await primary.start()
    try:
        await asyncio.wait_for(primary.listening.wait(), timeout=10)
        replica.rankings.put(KEY, b"from the replica", replica.rankings.epoch)
        primary.rankings.put(KEY, b"from the primary", primary.rankings.epoch)
        assert (replica.rankings.get(KEY), primary.rankings.get(KEY)) == (
            b"from the replica",
            b"from the primary",
        )
        primary.forget({"rankings"})  # what a notification or a commit of the table does
        assert (replica.rankings.get(KEY), primary.rankings.get(KEY)) == (None, None)
    finally:
        await primary.stop()
    assert not replica.rankings.enabled
