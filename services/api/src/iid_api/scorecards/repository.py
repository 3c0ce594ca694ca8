"""Scorecards' SQL: the stored snapshot (as the JSON text it was stored as) with whether a
recompute is pending, and an agency's entries."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.db import execute_alone
from iid_store.db.models import InnovationEntry


@dataclass(frozen=True)
class StoredSnapshot:
    payload: bytes
    undecided_answers: int
    computed_at: datetime
    generation: int
    inputs_hash: str
    stale: bool


# One statement, run alone (kit/db.execute_alone): the mobile app polls this read
_STORED = text(
    """
SELECT CAST(c.payload AS text) AS payload, c.undecided_answers, c.computed_at, c.generation,
       c.inputs_hash, m.generation IS NOT NULL AS stale
FROM scorecards c
LEFT JOIN recompute_markers m ON m.period_year = c.period_year AND m.region_code = c.region_code
WHERE c.period_year = :year AND c.region_code = :region AND c.basis = :basis
"""
)


async def stored(
    session: AsyncSession, year: int, region_code: str, basis: str
) -> StoredSnapshot | None:
    rows = await execute_alone(
        session, _STORED, {"year": year, "region": region_code, "basis": basis}
    )
    if not rows:
        return None
    row = rows[0]
    return StoredSnapshot(**{**row, "payload": row["payload"].encode()})


async def entry_ids(
    session: AsyncSession, year: int, region_code: str, visible: ColumnElement[bool]
) -> set[str]:
    entry = InnovationEntry
    rows = await session.scalars(
        select(entry.id).where(entry.period_year == year, entry.region_code == region_code, visible)
    )
    return {str(entry_id) for entry_id in rows}
