"""Load the synthetic national data set (bench/national.py) into a benchmark database.

The in-memory set of `national.national_set` is mapped onto the real assessable regions (sorted
by code) and written through our data layer: the seed (`iid_store.seed`) for editions and
regions, SQLAlchemy core for the period and clusters, and asyncpg COPY on the session's own
connection for the bulk tables (agencies, innovations, entries, SID and SPD answers).

Scale: copies of the nation. Scale k adds k-1 copies of every assessable region (codes
`73.72-2`, `73.72-3` ...), each with data drawn from its own seed and with the original's
clusters. Copies keep every region the size of a real one, so the nation grows while a
region's own recompute cost must stay flat; multiplying innovations per region instead would
make each region heavier and hide that. Nothing here writes a database it did not create:
callers pass the URL of a database their run created.
"""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from iid_scoring import Edition, Measured, RegionInput
from iid_store.db import models
from iid_store.seed import seed_editions, seed_regions

YEAR = 2026
EDITION = "iid-2026"
ACTOR = "bench"
SEED = 2025
AGENCIES_PER_REGION = (25, 35)  # about 30 OPD/UPTD/puskesmas per region
SENT_SHARE = 0.5  # about half of the entries already sent (they have a registration number)
_AGENCY_KINDS = ("opd",) * 6 + ("uptd", "puskesmas", "sekolah", "kecamatan")
_CLUSTER_FILES = {
    "tertinggal": "daerah-tertinggal-2020-2024.csv",
    "perbatasan": "daerah-perbatasan-partial.csv",
}


@dataclass(frozen=True)
class Shape:
    """How big one copy of the nation is: the first `regions` assessable regions with
    `innovations` innovations between them (546 / 36,742 is the reported national shape)."""

    regions: int
    innovations: int


FULL = Shape(546, 36_742)
QUICK = Shape(40, 1_000)


def copy_code(code: str, copy: int) -> str:
    return code if copy == 1 else f"{code}-{copy}"


async def prepare(session: AsyncSession, edition: Edition) -> list[models.Region]:
    """Editions, regions and the open period; returns the assessable regions by code."""
    await seed_editions(session)
    await seed_regions(session)
    start, end = edition.implementation_window
    period = {
        "year": YEAR,
        "edition_code": edition.code,
        "status": "open",
        "reporting_opens_on": date(YEAR, 6, 1),
        "reporting_closes_on": date(YEAR, 8, 31),
        "implementation_starts_on": start,
        "implementation_ends_on": end,
    }
    await session.execute(insert(models.Period).values(**period).on_conflict_do_nothing())
    regions = await session.scalars(
        select(models.Region).where(models.Region.assessable).order_by(models.Region.code)
    )
    return list(regions)


@cache
def _cluster_file(name: str) -> frozenset[str]:
    path = files("iid_store.seed") / "data" / "clusters" / name
    with path.open(encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


def clusters_of(region: models.Region) -> list[str]:
    extra = [
        cluster for cluster, name in _CLUSTER_FILES.items() if region.code in _cluster_file(name)
    ]
    return [region.kind, *extra]


async def add_copy_regions(
    session: AsyncSession, regions: Sequence[models.Region], copy: int
) -> None:
    """Region rows for copy `copy` (provinces first: the others reference them)."""
    if copy == 1:
        return
    rows = [
        {
            "code": copy_code(r.code, copy),
            "name": f"{r.name} (salinan {copy})",
            "kind": r.kind,
            "province_code": None if r.province_code is None else copy_code(r.province_code, 1),
            "assessable": True,
        }
        for r in regions
    ]
    await session.execute(insert(models.Region).values(rows).on_conflict_do_nothing())


async def add_clusters(session: AsyncSession, regions: Sequence[models.Region], copy: int) -> None:
    memberships = {(c, copy_code(r.code, copy)) for r in regions for c in clusters_of(r)}
    rows = [{"period_year": YEAR, "cluster": c, "region_code": code} for c, code in memberships]
    statement = insert(models.ClusterMembership).values(sorted(rows, key=str))
    await session.execute(statement.on_conflict_do_nothing())


class Rows:
    """Row tuples for COPY, built from the in-memory national set with a seeded RNG."""

    def __init__(self, edition: Edition, seed: int) -> None:
        self.edition = edition
        self.rng = random.Random(seed)
        self.agencies: list[tuple[Any, ...]] = []
        self.innovations: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        self.sid: list[tuple[Any, ...]] = []
        self.spd: list[tuple[Any, ...]] = []
        self._registration = 0

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def add_region(self, code: str, region: RegionInput) -> None:
        agencies = [self._agency(code, k) for k in range(self.rng.randint(*AGENCIES_PER_REGION))]
        for indicator, answer in region.spd.items():
            level = self.edition.resolve_level(indicator, answer)
            value = answer.value if isinstance(answer, Measured) else None
            self.spd.append((self.new_id(), YEAR, code, indicator, level, value, ACTOR))
        for number, item in enumerate(region.innovations):
            innovation_id, entry_id = self.new_id(), self.new_id()
            self.innovations.append((innovation_id, code))
            sent = self.rng.random() < SENT_SHARE
            self._registration += sent
            self.entries.append(
                (
                    entry_id,
                    innovation_id,
                    YEAR,
                    code,
                    self.rng.choice(agencies),
                    f"Inovasi {number + 1} {code}",
                    item.stage,
                    "perangkat_daerah",
                    self.rng.choice(("digital", "non_digital")),
                    "pelayanan_publik",
                    list(item.urusan),
                    item.implemented_on,
                    item.developed_on,
                    "sent" if sent else "draft",
                    f"BENCH-{code}-{number:04d}" if sent else None,
                    datetime(YEAR, 7, 1) if sent else None,
                    ACTOR,
                )
            )
            for indicator, chosen in item.answers.items():
                self.sid.append((self.new_id(), entry_id, indicator, chosen, ACTOR))

    def _agency(self, code: str, number: int) -> uuid.UUID:
        agency_id = self.new_id()
        kind = self.rng.choice(_AGENCY_KINDS)
        self.agencies.append((agency_id, code, f"Perangkat Daerah {number + 1} {code}", kind))
        return agency_id


_COPY_COLUMNS: dict[str, tuple[str, ...]] = {
    "agencies": ("id", "region_code", "name", "kind"),
    "innovations": ("id", "region_code"),
    "innovation_entries": (
        "id",
        "innovation_id",
        "period_year",
        "region_code",
        "agency_id",
        "name",
        "stage",
        "initiator",
        "kind",
        "form",
        "urusan",
        "implemented_on",
        "developed_on",
        "status",
        "registration_number",
        "sent_at",
        "created_by",
    ),
    "sid_answers": ("id", "entry_id", "indicator", "level", "updated_by"),
    "spd_answers": (
        "id",
        "period_year",
        "region_code",
        "indicator",
        "level",
        "value",
        "updated_by",
    ),
}


async def copy_rows(session: AsyncSession, rows: Rows) -> dict[str, int]:
    """COPY every table of `rows` on the session's connection (inside its transaction),
    its triggers off: a synthetic nation is not a change anyone follows (the change log
    would get a row per answer), and its keys are consistent by construction."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    counts = {}
    await raw.execute("SET LOCAL session_replication_role = replica")
    for table, columns in _COPY_COLUMNS.items():
        records = getattr(rows, _ATTRIBUTE[table])
        await raw.copy_records_to_table(table, records=records, columns=columns)
        counts[table] = len(records)
    await raw.execute("SET LOCAL session_replication_role = origin")
    return counts


_ATTRIBUTE = {
    "agencies": "agencies",
    "innovations": "innovations",
    "innovation_entries": "entries",
    "sid_answers": "sid",
    "spd_answers": "spd",
}


def spread(regions: Sequence[models.Region], count: int) -> list[models.Region]:
    """`count` regions evenly spaced over the sorted list (all of them at full size), so a
    small set still has provinces, kabupaten and kota."""
    return [regions[k * len(regions) // count] for k in range(count)]


def national_rows(
    edition: Edition, regions: Sequence[models.Region], shape: Shape, copy: int
) -> Rows:
    """The rows of one copy of the nation; copy 1 is exactly bench/national.py's set."""
    from national import national_set  # bench/ is on sys.path when the benchmark runs

    data = national_set(edition, shape.regions, shape.innovations, seed=SEED + copy - 1)
    rows = Rows(edition, seed=SEED * 1000 + copy)
    for region, region_input in zip(spread(regions, shape.regions), data, strict=True):
        rows.add_region(copy_code(region.code, copy), region_input)
    return rows


async def load_copy(
    session: AsyncSession,
    edition: Edition,
    regions: Sequence[models.Region],
    shape: Shape,
    copy: int,
) -> dict[str, int]:
    """Add copy `copy` of the nation (regions, clusters and all answers), uncommitted."""
    chosen = spread(regions, shape.regions)
    await add_copy_regions(session, chosen, copy)
    await add_clusters(session, chosen, copy)
    return await copy_rows(session, national_rows(edition, regions, shape, copy))


async def vacuum_analyze(engine: AsyncEngine) -> None:
    """What autovacuum does soon after a bulk load: statistics for the planner, and the
    visibility map that lets the worker read SID answers by index only."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))


def iter_copies(scale: int, loaded: int) -> Iterator[int]:
    """The copies still to load to reach `scale` when `loaded` are in."""
    return iter(range(loaded + 1, scale + 1))
