"""Process caches for what rarely changes: who a credential belongs to, periods, editions,
regions, which period and region an innovation entry belongs to.

One staleness rule for all of them: an entry is dropped as soon as a change of a table it was
read from commits, and lives at most its cache's `ttl` anyway. The process that commits the
change forgets at once (`_forget_committed_tables`, so its next request sees it); every other
process forgets when PostgreSQL notifies it (channel `iid_cache`, sent by triggers when the
transaction commits, migration c9d1e3f5a7b9), milliseconds later. While the listening
connection is down nothing is cached at all (every lookup reads the database), so a missed
notification can never keep a revoked key or a closed period alive.
Writes that must never slip through a stale entry also guard in their own statement (a save
checks the period is open in the statement that writes).

The caches live on the app (one set per process and database) and reach services through the
request's session (`caches_of`). A streaming replica (kit/replica.py) has a set of its own:
it sends no notifications and replays the primary's changes a little later, so its entries are
cleared with the primary's and live at most a few seconds (`Caches.for_replica`).
"""

import asyncio
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from iid_store.db.listen import Listener

if TYPE_CHECKING:  # the cached values' types, from modules that use this one
    import uuid

    from iid_api.catalog.service import EntryHome, PeriodInfo, RegionInfo
    from iid_api.kit.principal import KeyHolder, Principal
    from iid_api.kit.rendered import Rendered
    from iid_scoring import Edition

CACHE_CHANNEL = "iid_cache"
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class TableCache(Generic[K, V]):
    """A bounded LRU map whose entries expire after `ttl` seconds or when one of `tables`
    changes. `get` misses whenever caching is off.

    A reader takes the `epoch` before it reads the database and hands it to `put`: a change
    that committed while it read has cleared the cache and moved the epoch on, so what it
    read is not kept (it may predate that change)."""

    tables: frozenset[str]
    ttl: float
    max_entries: int
    enabled: bool = False
    epoch: int = 0
    _entries: OrderedDict[K, tuple[float, V]] = field(default_factory=OrderedDict)

    def get(self, key: K) -> V | None:
        if not self.enabled:
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        stored_at, value = found
        if time.monotonic() - stored_at > self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or what `load` reads (kept unless a change committed meanwhile);
        None when `load` finds nothing (not cached)."""
        found = self.get(key)
        if found is not None:
            return found
        epoch = self.epoch
        loaded = await load()
        if loaded is not None:
            self.put(key, loaded, epoch)
        return loaded

    def put(self, key: K, value: V, epoch: int) -> None:
        if not self.enabled or epoch != self.epoch:
            return
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()


class Caches:
    """Every process cache of the API, and the listener that invalidates them."""

    def __init__(
        self, database_url: str | None, principal_seconds: float, max_age: float = math.inf
    ) -> None:
        def cache(tables: set[str], ttl: float, max_entries: int) -> TableCache[Any, Any]:
            return TableCache(frozenset(tables), min(ttl, max_age), max_entries)

        self.principals: TableCache[tuple[object, ...], Principal | KeyHolder] = cache(
            {"users", "refresh_families", "api_keys"}, principal_seconds, 100_000
        )
        self.periods: TableCache[int, PeriodInfo] = cache({"periods"}, 300, 1_000)
        self.editions: TableCache[str, Edition] = cache({"editions"}, 300, 100)
        self.regions: TableCache[str, RegionInfo] = cache({"regions"}, 3600, 2_000)
        # an entry's period and region never change (only its agency, checked when writing)
        self.entries: TableCache[uuid.UUID, EntryHome] = cache(set(), 3600, 200_000)
        # rendered answers: ranking pages until the rankings change; summaries also count
        # innovations, which change without a re-ranking: at most 5 s old
        self.rankings: TableCache[tuple[object, ...], Rendered] = cache({"rankings"}, 300, 5_000)
        self.summaries: TableCache[tuple[object, ...], Rendered] = cache({"rankings"}, 5, 100)
        self._all = (
            self.principals,
            self.periods,
            self.editions,
            self.regions,
            self.entries,
            self.rankings,
            self.summaries,
        )
        self._listener = (
            Listener(database_url, [CACHE_CHANNEL], self._notified, self._connected)
            if database_url is not None
            else None
        )
        self._task: asyncio.Task[None] | None = None
        # set while the invalidations arrive (and so caching is on)
        self.listening = asyncio.Event()
        self._replicas: list[Caches] = []

    def for_replica(self, max_age: float) -> "Caches":
        """Caches for sessions on a streaming replica of this set's database, cleared
        whenever this set is, on whatever is cached only while this set's listener is up.
        A read on the replica right after a change may still see the old rows (the replica
        has not replayed it yet): such an entry is kept at most `max_age` seconds."""
        replica = Caches(None, self.principals.ttl, max_age)
        replica._connected(self.principals.enabled)
        self._replicas.append(replica)
        return replica

    def _notified(self, _channel: str, table: str) -> None:
        self.forget({table})

    def forget(self, tables: Collection[str]) -> None:
        """Drop every entry read from any of `tables` (here and on the replica)."""
        for cache in self._all:
            if cache.tables & set(tables):
                cache.clear()
        for replica in self._replicas:
            replica.forget(tables)

    def _connected(self, up: bool) -> None:
        for cache in self._all:
            cache.clear()
            cache.enabled = up
        if up:
            self.listening.set()
        else:
            self.listening.clear()
        for replica in self._replicas:
            replica._connected(up)

    async def start(self) -> None:
        if self._listener is not None:
            self._task = asyncio.create_task(self._listener.run(), name="iid-cache-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


CACHES_KEY = "iid_caches"
# For sessions not opened by a request (scripts, tests calling services): nothing cached.
_NO_CACHES = Caches(None, 0)


def caches_of(session: AsyncSession | Session) -> Caches:
    found = session.info.get(CACHES_KEY)
    return found if isinstance(found, Caches) else _NO_CACHES


# --- the committing process forgets what it changed ------------------------------------------
_WRITTEN = "iid_written_tables"


def _note(session: Session, table: str) -> None:
    session.info.setdefault(_WRITTEN, set()).add(table)


@event.listens_for(Session, "before_flush")
def _note_flushed_tables(session: Session, _context: object, _instances: object) -> None:
    for row in chain(session.new, session.dirty, session.deleted):
        _note(session, row.__table__.name)


@event.listens_for(Session, "do_orm_execute")
def _note_statement_tables(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None:
            _note(state.session, table.name)


@event.listens_for(Session, "after_commit")
def _forget_committed_tables(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written:
        caches_of(session).forget(written)


@event.listens_for(Session, "after_rollback")
def _forget_noted_tables(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
