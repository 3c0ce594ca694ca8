"""Scorecards' SQL: the stored snapshot (as the JSON text it was stored as) with whether a
recompute is pending, and an agency's entries."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import InnovationEntry, RecomputeMarker, Scorecard


@dataclass(frozen=True)
class StoredSnapshot:
    payload: bytes
    undecided_answers: int
    computed_at: datetime
    generation: int
    inputs_hash: str
    stale: bool


async def stored(
    session: AsyncSession, year: int, region_code: str, basis: str
) -> StoredSnapshot | None:
    card, marker = Scorecard, RecomputeMarker
    row = (
        await session.execute(
            select(
                card.payload.cast(String),
                card.undecided_answers,
                card.computed_at,
                card.generation,
                card.inputs_hash,
                marker.generation.is_not(None),
            )
            .outerjoin(
                marker,
                (marker.period_year == card.period_year) & (marker.region_code == card.region_code),
            )
            .where(card.period_year == year, card.region_code == region_code, card.basis == basis)
        )
    ).one_or_none()
    if row is None:
        return None
    payload, undecided, computed_at, generation, inputs_hash, stale = row
    return StoredSnapshot(payload.encode(), undecided, computed_at, generation, inputs_hash, stale)


async def entry_ids(
    session: AsyncSession, year: int, region_code: str, visible: ColumnElement[bool]
) -> set[str]:
    entry = InnovationEntry
    rows = await session.scalars(
        select(entry.id).where(entry.period_year == year, entry.region_code == region_code, visible)
    )
    return {str(entry_id) for entry_id in rows}
