"""Seed data: the packaged editions, the 552 regions, and a demo a newcomer can explore (an
open period, and results regions published before the service).

Idempotent: running it twice changes nothing (fixed keys, ON CONFLICT DO NOTHING, and the demo
is skipped when its period exists). A packaged edition file that changed since it was seeded
updates its row while no period uses it; otherwise the seed stops and names those periods.
Run with `python -m iid_store.seed [--no-demo]`.
"""

import argparse
import asyncio
import csv
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from importlib.resources import files
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import URUSAN, Edition, available_editions, load_edition
from iid_store import published_results
from iid_store.config import CommonSettings, SeedSettings
from iid_store.db import create_engine, create_session_factory, models, session_scope
from iid_store.editions import edition_row
from iid_store.outbox import mark_regions_for_recompute
from iid_store.passwords import hash_password

DATA = files("iid_store.seed") / "data"
# DKI Jakarta's administrative city/regency units are not autonomous governments.
NOT_ASSESSABLE = frozenset({"31.01", "31.71", "31.72", "31.73", "31.74", "31.75"})
SEED_ACTOR = "seed"
DEMO_YEAR = 2026
DEMO_EDITION = "iid-2026"
DEMO_REGIONS = ("73.71", "73.72", "73.73")  # Makassar, Parepare, Palopo (all kota)
DEMO_NAMESPACE = uuid.UUID("6f1c2d4e-0000-4000-8000-000000002026")


class SeedError(RuntimeError):
    """The seed cannot do what it was asked without changing what must not change."""


def _rows(folder: str, name: str) -> Iterator[dict[str, str]]:
    with (DATA / folder / name).open(encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def region_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"code": row["code"], "name": row["name"], "kind": "provinsi", "province_code": None}
        for row in _rows("regions", "provinces.csv")
    ]
    for row in _rows("regions", "regencies.csv"):
        kind = "kabupaten" if row["name"].startswith("KABUPATEN") else "kota"
        rows.append(
            {
                "code": row["code"],
                "name": row["name"],
                "kind": kind,
                "province_code": row["province_code"],
            }
        )
    for region in rows:
        region["assessable"] = region["code"] not in NOT_ASSESSABLE
    return rows


async def seed_editions(session: AsyncSession, editions: Iterable[Edition] | None = None) -> None:
    """Store the editions (default: the packaged ones). One already stored with another
    document (its file changed: same code, new checksum) is updated, and audited, while no
    period uses it; a period pins its edition forever, so then SeedError names the periods."""
    for edition in editions if editions is not None else map(load_edition, available_editions()):
        row = edition_row(edition)
        stored = await session.get(models.Edition, edition.code, with_for_update=True)
        if stored is None:
            await session.execute(insert(models.Edition).values(row).on_conflict_do_nothing())
        elif stored.checksum != row["checksum"]:
            await _update_edition(session, stored, row)


async def _update_edition(
    session: AsyncSession, stored: models.Edition, row: dict[str, Any]
) -> None:
    years = list(
        await session.scalars(
            select(models.Period.year)
            .where(models.Period.edition_code == stored.code)
            .order_by(models.Period.year)
        )
    )
    if years:
        raise SeedError(
            f"edition {stored.code}: its file changed (checksum {stored.checksum[:12]} ->"
            f" {row['checksum'][:12]}) but period(s) {', '.join(map(str, years))} use it, and"
            " a period's edition never changes: give the new document a new code"
        )
    session.add(
        models.AuditEntry(
            actor=SEED_ACTOR,
            action="update",
            object_type="edition",
            object_id=stored.code,
            before={"checksum": stored.checksum},
            after={"checksum": row["checksum"]},
        )
    )
    for column, value in row.items():
        setattr(stored, column, value)
    await session.flush()


async def seed_regions(session: AsyncSession) -> None:
    rows = region_rows()
    provinces = [row for row in rows if row["kind"] == "provinsi"]
    others = [row for row in rows if row["kind"] != "provinsi"]
    for batch in (provinces, others):  # provinces first: the others reference them
        await session.execute(insert(models.Region).values(batch).on_conflict_do_nothing())


async def seed_demo(session: AsyncSession) -> bool:
    """A demo 2026 period, open, with three kota that have agencies, innovations and answers."""
    if await session.get(models.Period, DEMO_YEAR) is not None:
        return False
    edition = load_edition(DEMO_EDITION)
    start, end = edition.implementation_window
    session.add(
        models.Period(
            year=DEMO_YEAR,
            edition_code=DEMO_EDITION,
            status="open",
            reporting_opens_on=date(DEMO_YEAR, 6, 1),
            reporting_closes_on=date(DEMO_YEAR, 8, 31),
            implementation_starts_on=start,
            implementation_ends_on=end,
        )
    )
    await session.flush()
    members = await _seed_clusters(session)
    rng = random.Random(DEMO_YEAR)
    for region_code in DEMO_REGIONS:
        await _seed_region_demo(session, rng, region_code, edition)
    # as when a period opens: every member gets its scorecards, so every ranking lists all
    await mark_regions_for_recompute(session, DEMO_YEAR, members)
    return True


async def _seed_clusters(session: AsyncSession) -> set[str]:
    """The demo period's cluster memberships; returns the member regions."""
    regions = (
        await session.execute(select(models.Region).where(models.Region.assessable))
    ).scalars()
    memberships = [(region.kind, region.code) for region in regions]
    memberships += [
        ("tertinggal", row["code"]) for row in _rows("clusters", "daerah-tertinggal-2020-2024.csv")
    ]
    memberships += [
        ("perbatasan", row["code"]) for row in _rows("clusters", "daerah-perbatasan-partial.csv")
    ]
    await session.execute(
        insert(models.ClusterMembership)
        .values(
            [
                {"period_year": DEMO_YEAR, "cluster": cluster, "region_code": code}
                for cluster, code in memberships
            ]
        )
        .on_conflict_do_nothing()
    )
    return {code for _, code in memberships}


def _demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(map(str, parts)))


async def _seed_region_demo(
    session: AsyncSession, rng: random.Random, region_code: str, edition: Any
) -> None:
    agency_names = ["Dinas Kesehatan", "Dinas Pendidikan", "Dinas Sosial", "Dinas PUPR", "Bappeda"]
    agencies = [
        models.Agency(
            id=_demo_id(region_code, "agency", name), region_code=region_code, name=name, kind="opd"
        )
        for name in agency_names
    ]
    session.add_all(agencies)
    for indicator in edition.spd_indicators:
        session.add(
            models.SpdAnswer(
                period_year=DEMO_YEAR,
                region_code=region_code,
                indicator=indicator.code,
                level=rng.choice((1, 2, 2, 3, 3)),
                updated_by=SEED_ACTOR,
            )
        )
    basic = [code for code, urusan in URUSAN.items() if urusan.group == "wajib_pelayanan_dasar"]
    for number in range(rng.randint(8, 16)):
        await _seed_innovation(
            session, rng, region_code, number, rng.choice(agencies), basic, edition
        )
    await session.flush()


async def _seed_innovation(
    session: AsyncSession,
    rng: random.Random,
    region_code: str,
    number: int,
    agency: models.Agency,
    basic_urusan: list[str],
    edition: Any,
) -> None:
    identity = models.Innovation(
        id=_demo_id(region_code, "innovation", number), region_code=region_code
    )
    session.add(identity)
    entry_id = _demo_id(region_code, "entry", number)
    session.add(
        models.InnovationEntry(
            id=entry_id,
            innovation_id=identity.id,
            period_year=DEMO_YEAR,
            region_code=region_code,
            agency_id=agency.id,
            name=f"Inovasi Demo {number + 1} {agency.name}",
            stage=rng.choice(("penerapan",) * 9 + ("uji_coba",)),
            initiator="perangkat_daerah",
            kind=rng.choice(("digital", "non_digital")),
            form="pelayanan_publik",
            urusan=[basic_urusan[number % len(basic_urusan)]],
            implemented_on=date(2024, 1 + number % 12, 1),
            design=" ".join(["rancang"] * 320),
            created_by=SEED_ACTOR,
        )
    )
    await session.flush()
    for indicator in edition.sid_indicators:
        session.add(
            models.SidAnswer(
                entry_id=entry_id,
                indicator=indicator.code,
                level=rng.choice((0, 1, 2, 2, 3, 3)),
                updated_by=SEED_ACTOR,
            )
        )


async def seed_published_results(session: AsyncSession) -> None:
    """The demo history: results regions published before the service (never replacing a
    result imported since)."""
    results = []
    for line, row in enumerate(_rows("history", "published-results.csv"), start=2):
        result, errors, _ = published_results.parse_row(row)
        if result is None:
            raise ValueError(f"published-results.csv line {line}: {errors}")
        results.append(result)
    await published_results.store(
        session,
        results,
        import_id=_demo_id("history"),
        imported_by=SEED_ACTOR,
        replace=False,
    )


async def seed_bootstrap_admin(session: AsyncSession, settings: SeedSettings) -> bool:
    """The first national admin (IID_BOOTSTRAP_ADMIN_EMAIL / _PASSWORD), created only when no
    user has that email: a password changed later is never reset by a re-seed."""
    email = settings.bootstrap_admin_email.strip().lower()
    exists = await session.scalar(select(models.User.id).where(models.User.email == email))
    if exists is not None:
        return False
    password = settings.bootstrap_admin_password.get_secret_value()
    session.add(
        models.User(
            email=email,
            full_name="Bootstrap admin",
            password_hash=hash_password(password),
            role="national_admin",
            created_by=SEED_ACTOR,
        )
    )
    await session.flush()
    return True


async def seed(settings: CommonSettings, *, demo: bool = True) -> None:
    engine = create_engine(settings)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            await seed_editions(session)
            await seed_regions(session)
            if isinstance(settings, SeedSettings):
                await seed_bootstrap_admin(session, settings)
            if demo:
                await seed_demo(session)
                await seed_published_results(session)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed editions, regions and the demo period")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo period")
    arguments = parser.parse_args()
    try:
        asyncio.run(seed(SeedSettings(), demo=not arguments.no_demo))
    except SeedError as exc:
        raise SystemExit(f"seed: {exc}") from None


if __name__ == "__main__":
    main()
