"""Cached lookups of what rarely changes (see kit/cache.py for the staleness rule). Each answers
404 (NotFound) for what does not exist, so callers need no check of their own."""

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import repository
from iid_api.kit.cache import caches_of
from iid_api.kit.errors import Conflict, NotFound
from iid_scoring import Edition
from iid_store.editions import edition_by_code


@dataclass(frozen=True)
class PeriodInfo:
    year: int
    status: str
    edition_code: str


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    kind: str
    province_code: str | None
    assessable: bool


@dataclass(frozen=True)
class EntryHome:
    """Where an innovation entry belongs: fixed for its life."""

    period_year: int
    region_code: str


class HasStatus(Protocol):
    @property
    def year(self) -> int: ...
    @property
    def status(self) -> str: ...


def require_open(period: HasStatus) -> None:
    """Score inputs change only while the period is open."""
    if period.status != "open":
        raise Conflict(
            f"period {period.year} is {period.status}: changes are accepted only while it is open"
        )


async def period(session: AsyncSession, year: int) -> PeriodInfo:
    cache = caches_of(session).periods
    found = cache.get(year)
    if isinstance(found, PeriodInfo):
        return found
    return await fresh_period(session, year)


async def fresh_period(session: AsyncSession, year: int) -> PeriodInfo:
    """The period as the database has it now (and cached from here on)."""
    cache = caches_of(session).periods
    epoch = cache.epoch
    row = await repository.period_row(session, year)
    if row is None:
        raise NotFound(f"period {year} not found")
    info = PeriodInfo(
        year=row.year,
        status=row.status,
        edition_code=row.edition_code,
    )
    cache.put(year, info, epoch)
    return info


async def edition(session: AsyncSession, code: str) -> Edition:
    cache = caches_of(session).editions
    found = cache.get(code)
    if isinstance(found, Edition):
        return found
    epoch = cache.epoch
    loaded = await edition_by_code(session, code)
    if loaded is None:
        raise NotFound(f"edition {code} not found")
    cache.put(code, loaded, epoch)
    return loaded


async def period_edition(session: AsyncSession, year: int) -> tuple[PeriodInfo, Edition]:
    info = await period(session, year)
    return info, await edition(session, info.edition_code)


async def region(session: AsyncSession, code: str) -> RegionInfo:
    cache = caches_of(session).regions
    found = cache.get(code)
    if isinstance(found, RegionInfo):
        return found
    epoch = cache.epoch
    row = await repository.region_row(session, code)
    if row is None:
        raise NotFound(f"region {code} not found")
    info = RegionInfo(row.code, row.name, row.kind, row.province_code, row.assessable)
    cache.put(code, info, epoch)
    return info


async def entry_home(session: AsyncSession, entry_id: uuid.UUID) -> EntryHome | None:
    """Where a live entry belongs (None: no such entry). A deleted entry may stay cached: the
    writes that use this check `deleted_at` themselves."""
    cache = caches_of(session).entries
    found = cache.get(entry_id)
    if isinstance(found, EntryHome):
        return found
    epoch = cache.epoch
    row = await repository.entry_home(session, entry_id)
    if row is None:
        return None
    home = EntryHome(row.period_year, row.region_code)
    cache.put(entry_id, home, epoch)
    return home
