"""Cached lookups of what rarely changes (see kit/cache.py for the staleness rule). Each answers
404 (NotFound) for what does not exist, so callers need no check of their own."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

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
    found = await caches_of(session).periods.get_or_load(year, partial(_load_period, session, year))
    if found is None:
        raise NotFound(f"period {year} not found")
    return found


async def fresh_period(session: AsyncSession, year: int) -> PeriodInfo:
    """The period as the database has it now, held so until the caller's transaction ends (a
    transition in flight is waited for and then seen; none commits meanwhile), and cached
    from here on. For a write that decides on the period's state."""
    cache = caches_of(session).periods
    epoch = cache.epoch
    found = await _load_period(session, year, held=True)
    if found is None:
        raise NotFound(f"period {year} not found")
    cache.put(year, found, epoch)
    return found


async def _load_period(
    session: AsyncSession, year: int, *, held: bool = False
) -> PeriodInfo | None:
    row = await repository.period_row(session, year, held=held)
    return None if row is None else PeriodInfo(row.year, row.status, row.edition_code)


async def edition(session: AsyncSession, code: str) -> Edition:
    found = await caches_of(session).editions.get_or_load(
        code, partial(edition_by_code, session, code)
    )
    if found is None:
        raise NotFound(f"edition {code} not found")
    return found


async def period_edition(session: AsyncSession, year: int) -> tuple[PeriodInfo, Edition]:
    info = await period(session, year)
    return info, await edition(session, info.edition_code)


def _region_info(row: Any) -> RegionInfo:
    return RegionInfo(row.code, row.name, row.kind, row.province_code, row.assessable)


async def region(session: AsyncSession, code: str) -> RegionInfo:
    async def load() -> RegionInfo | None:
        row = await repository.region_row(session, code)
        return None if row is None else _region_info(row)

    found = await caches_of(session).regions.get_or_load(code, load)
    if found is None:
        raise NotFound(f"region {code} not found")
    return found


async def regions(session: AsyncSession, codes: Collection[str]) -> dict[str, RegionInfo]:
    """Those of `codes` that are regions, by code: the cached ones, the rest in one query."""
    cache = caches_of(session).regions
    found = {code: info for code in codes if (info := cache.get(code)) is not None}
    missing = [code for code in codes if code not in found]
    if missing:
        epoch = cache.epoch
        for row in await repository.region_rows(session, missing):
            found[row.code] = _region_info(row)
            cache.put(row.code, found[row.code], epoch)
    return found


async def entry_home(session: AsyncSession, entry_id: uuid.UUID) -> EntryHome | None:
    """Where a live entry belongs (None: no such entry). A deleted entry may stay cached: the
    writes that use this check `deleted_at` themselves."""

    async def load() -> EntryHome | None:
        row = await repository.entry_home(session, entry_id)
        return None if row is None else EntryHome(row.period_year, row.region_code)

    return await caches_of(session).entries.get_or_load(entry_id, load)
