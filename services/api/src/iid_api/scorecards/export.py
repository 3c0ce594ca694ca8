"""A region's scorecards as a spreadsheet: the claimed and the verified snapshot side by side,
per indicator, per variable and per innovation (the stored JSON of GET .../scorecard, read
through the same service, so through the same permissions: a basis the caller may not see
stays empty, as for the public before publication's claims)."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.errors import NotFound, Unauthorized
from iid_api.kit.exports import RegionFilters
from iid_api.kit.spreadsheets import (
    Document,
    Stamp,
    Table,
    decimal,
    integer,
    listed,
    moment,
    text,
)
from iid_api.kit.tenancy import Scope
from iid_api.scorecards import service
from iid_store.changes import last_position
from iid_store.db.models import InnovationEntry
from iid_store.scoring_inputs import Basis

BASES = (Basis.CLAIMED, Basis.VERIFIED)
LABELS = {Basis.CLAIMED: "klaim", Basis.VERIFIED: "verifikasi"}


def _both(header: str, column: Any, **kw: Any) -> tuple[Any, ...]:
    return tuple(column(f"{header} {LABELS[basis]}", **kw) for basis in BASES)


SUMMARY = (
    text("Basis", 12),
    decimal("Indeks"),
    text("Predikat", 18),
    decimal("Skor SPD"),
    decimal("Skor SID"),
    decimal("Skor jumlah inovasi", width=14),
    decimal("Skor total"),
    decimal("Skor total maksimum", width=14),
    integer("Inovasi dihitung"),
    integer("Pembagi"),
    integer("Jawaban belum diputus", 14),
    integer("Generasi"),
    moment("Dihitung pada"),
)
INDICATORS = (
    text("Kode", 8),
    text("Aspek", 8),
    text("Variabel", 24),
    *_both("Level", integer),
    *_both("Poin", decimal),
    decimal("Poin maksimum"),
)
VARIABLES = (
    text("Kode", 24),
    text("Nama", 32),
    text("Aspek", 8),
    *_both("Poin", decimal),
    decimal("Poin maksimum"),
    *_both("Persentase", decimal),
)
INNOVATIONS = (
    text("ID inovasi", 38),
    text("Nama inovasi", 32),
    *_both("Status", text),
    *_both("Alasan", text),
    *_both("Poin", decimal),
)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


async def _snapshots(
    session: AsyncSession, scope: Scope, filters: RegionFilters
) -> dict[Basis, dict[str, Any]]:
    """The stored snapshots the caller may see, by basis; the first refusal when none."""
    found: dict[Basis, dict[str, Any]] = {}
    refusals: list[Exception] = []
    for basis in BASES:
        try:
            stored = await service.stored(session, scope, filters.period, filters.region, basis)
        except (Unauthorized, NotFound) as refused:
            refusals.append(refused)
            continue
        found[basis] = orjson.loads(stored)
    if not found:
        raise refusals[0]
    return found


def _side_by_side(
    cards: dict[Basis, dict[str, Any]], part: str, key: str = "code"
) -> Iterable[tuple[str, dict[Basis, dict[str, Any]]]]:
    """The items of `part` (indicators, variables, innovations) in the claimed order, then
    any only the verified snapshot has, each with its item per basis."""
    by_basis = {basis: {item[key]: item for item in card[part]} for basis, card in cards.items()}
    order = dict.fromkeys(item[key] for card in cards.values() for item in card[part])
    for item_key in order:
        yield item_key, {b: items[item_key] for b, items in by_basis.items() if item_key in items}


def _pair(items: dict[Basis, dict[str, Any]], field: str, number: bool = False) -> tuple[Any, ...]:
    values = tuple(items.get(basis, {}).get(field) for basis in BASES)
    return tuple(_number(value) for value in values) if number else values


def _any(items: dict[Basis, dict[str, Any]], field: str) -> Any:
    return next(iter(items.values()))[field]


async def document(session: AsyncSession, scope: Scope, filters: RegionFilters) -> Document:
    cards = await _snapshots(session, scope, filters)
    period = await catalog.period(session, filters.period)
    entries = await session.execute(
        select(InnovationEntry.id, InnovationEntry.name).where(
            InnovationEntry.period_year == filters.period,
            InnovationEntry.region_code == filters.region,
        )
    )
    names = {str(entry_id): name for entry_id, name in entries}

    summary = [
        (
            basis.value,
            _number(card["index"]),
            card["rating"],
            _number(card["spd_score"]),
            _number(card["sid_score"]),
            _number(card["count_score"]),
            _number(card["total_score"]),
            _number(card["max_total_score"]),
            card["counted_innovations"],
            card["divisor"],
            card["undecided_answers"],
            card["generation"],
            datetime.fromisoformat(card["computed_at"]),
        )
        for basis, card in cards.items()
    ]
    indicators = [
        (
            code,
            _any(items, "aspect"),
            _any(items, "variable"),
            *_pair(items, "level"),
            *_pair(items, "points", number=True),
            _number(_any(items, "max_points")),
        )
        for code, items in _side_by_side(cards, "indicators")
    ]
    variables = [
        (
            code,
            _any(items, "name"),
            _any(items, "aspect"),
            *_pair(items, "points", number=True),
            _number(_any(items, "max_points")),
            *_pair(items, "share", number=True),
        )
        for code, items in _side_by_side(cards, "variables")
    ]
    innovations = [
        (
            entry_id,
            names.get(entry_id),
            *_pair(items, "status"),
            *_pair(items, "reason"),
            *_pair(items, "points", number=True),
        )
        for entry_id, items in _side_by_side(cards, "innovations", key="id")
    ]
    stamp = Stamp(
        title=f"Kartu skor IID {filters.period}, daerah {filters.region}",
        period=filters.period,
        edition=period.edition_code,
        basis=" dan ".join(basis.value for basis in cards),
        generation=await last_position(session),
        data_time=max(datetime.fromisoformat(card["computed_at"]) for card in cards.values()),
        filters={"daerah": filters.region},
    )
    tables = (
        Table("Indikator", "indikator", INDICATORS, listed(indicators)),
        Table("Inovasi", "inovasi", INNOVATIONS, listed(innovations)),
        Table("Variabel", "variabel", VARIABLES, listed(variables)),
        Table("Ringkasan", "ringkasan", SUMMARY, listed(summary)),
    )
    return Document(f"kartu-skor-{filters.period}-{filters.region}", stamp, tables)
