"""Load the scoring library's input for regions of a period from the stored claims.

Two bases:
- `claimed`: what the region sees while filling: every live innovation entry of the period
  (sent or not) with the region's own levels.
- `verified`: sent entries only, with the verifiers' decisions and rejections applied by the
  scoring library (`iid_scoring.verified_input`, which also counts the undecided answers).
  This module only loads rows.

Both bases of many regions come from three queries (the worker's full recompute loads a whole
nation this way); SID answers arrive aggregated per innovation to keep the row count low.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    Executable,
    String,
    any_,
    func,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from iid_scoring import Decision, Decisions, InnovationInput, RegionInput, verified_input
from iid_store.db import REGION_CODES, YEAR, cached_statement, period_regions
from iid_store.db.models import (
    InnovationEntry,
    InnovationRejection,
    SidAnswer,
    SpdAnswer,
    VerificationDecision,
)


class Basis(StrEnum):
    CLAIMED = "claimed"
    VERIFIED = "verified"


@dataclass(frozen=True)
class LoadedInput:
    region_input: RegionInput
    undecided_answers: int


@dataclass
class SpdClaims:
    """A region's SPD claims and the decisions on them."""

    claimed: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)


class LiveEntry(NamedTuple):
    claimed: InnovationInput  # never flagged rejected: the claimed basis ignores verifiers
    sent: bool


class _Sid(NamedTuple):
    """Decisions on SID answers of all loaded entries (entry id -> code -> decision), and the
    entries rejected as a whole."""

    decisions: dict[str, dict[str, Decision]]
    rejected: frozenset[str]


async def load_region_inputs(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, dict[Basis, LoadedInput]]:
    """Both bases of every region in `region_codes` (regions without data get empty inputs)."""
    spd = await spd_claims(session, period_year, region_codes)
    entries, rejected = await live_entries(session, period_year, region_codes)
    sid = _Sid(await sid_decisions(session, period_year, region_codes), rejected)
    return {
        code: _region_inputs(code, spd.get(code, SpdClaims()), entries.get(code, []), sid)
        for code in region_codes
    }


async def load_region_input(
    session: AsyncSession, period_year: int, region_code: str, basis: Basis
) -> LoadedInput:
    return (await load_region_inputs(session, period_year, [region_code]))[region_code][basis]


def _region_inputs(
    code: str, spd: SpdClaims, entries: list[LiveEntry], sid: _Sid
) -> dict[Basis, LoadedInput]:
    claimed = tuple(entry.claimed for entry in entries)
    sent = tuple(entry.claimed for entry in entries if entry.sent)
    verified = verified_input(
        RegionInput(spd.claimed, sent, code), Decisions(spd.decisions, sid.decisions, sid.rejected)
    )
    return {
        Basis.CLAIMED: LoadedInput(RegionInput(spd.claimed, claimed, code), 0),
        Basis.VERIFIED: LoadedInput(verified.region_input, verified.undecided_answers),
    }


async def spd_claims(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, SpdClaims]:
    answers: dict[str, SpdClaims] = defaultdict(SpdClaims)
    for region, code, level, decision, lowered in await spd_rows(
        session, period_year, region_codes
    ):
        answers[region].claimed[code] = level
        if decision is not None:
            answers[region].decisions[code] = Decision(decision, lowered)
    return answers


async def spd_rows(session: AsyncSession, period_year: int, region_codes: Sequence[str]) -> Any:
    """(region, indicator, claimed level, decision or None, lowered level or None) of every
    SPD answer of the regions."""
    return await session.execute(_spd_rows(), period_regions(period_year, region_codes))


@cached_statement
def _spd_rows() -> Executable:
    return (
        select(
            SpdAnswer.region_code,
            SpdAnswer.indicator,
            SpdAnswer.level,
            VerificationDecision.decision,
            VerificationDecision.level,
        )
        .outerjoin(VerificationDecision, VerificationDecision.spd_answer_id == SpdAnswer.id)
        .where(SpdAnswer.period_year == YEAR, SpdAnswer.region_code == any_(REGION_CODES))
    )


_LIVE_ENTRIES = (
    InnovationEntry.period_year == YEAR,
    InnovationEntry.region_code == any_(REGION_CODES),
    InnovationEntry.deleted_at.is_(None),
)


def _as_loaded(column: Any) -> Any:
    """The column as the driver returns it (lists for arrays; dicts for JSON, decoded by the
    connection's codec), skipping SQLAlchemy's per-item result processing, which a national
    load cannot afford (docs/benchmarks.md): the values need none."""
    return type_coerce(column, NullType())


async def live_entries(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> tuple[dict[str, list[LiveEntry]], frozenset[str]]:
    """Each region's live entries, and the ids of those rejected as a whole."""
    entries: dict[str, list[LiveEntry]] = defaultdict(list)
    rejections: set[str] = set()
    connection = await session.connection()  # Core rows: the ORM adds nothing to plain columns
    rows = (
        await connection.execute(_live_entries(), period_regions(period_year, region_codes))
    ).all()
    for region, entry_id, stage, urusan, implemented, developed, sent, rejected, levels in rows:
        claimed = InnovationInput(
            id=entry_id,
            stage=stage,
            urusan=tuple(urusan),
            implemented_on=implemented,
            developed_on=developed,
            answers=levels or {},  # NULL: no answers
        )
        entries[region].append(LiveEntry(claimed, sent))
        if rejected:
            rejections.add(entry_id)
    return entries, frozenset(rejections)


@cached_statement
def _live_entries() -> Executable:
    # SID answers aggregated per entry through a LATERAL subquery: each entry's answers come
    # from the (entry_id, indicator) index, so loading many chunks of regions reads every
    # answer once; a join grouped by entry scanned the whole table for every chunk. They come
    # as one JSON object per entry, which the driver's json codec (the engine's orjson) turns
    # into the answers dict in C rather than Python zipping two arrays.
    per_entry = (
        select(
            _as_loaded(func.json_object_agg(SidAnswer.indicator, SidAnswer.level)).label("levels")
        )
        .where(SidAnswer.entry_id == InnovationEntry.id)
        .lateral("answers")
    )
    return (
        select(
            InnovationEntry.region_code,
            InnovationEntry.id.cast(String).label("id"),
            InnovationEntry.stage,
            _as_loaded(InnovationEntry.urusan),
            InnovationEntry.implemented_on,
            InnovationEntry.developed_on,
            (InnovationEntry.status == "sent").label("sent"),
            InnovationRejection.entry_id.is_not(None).label("rejected"),
            per_entry.c.levels,
        )
        .select_from(InnovationEntry)
        .join(per_entry, true())
        .outerjoin(InnovationRejection, InnovationRejection.entry_id == InnovationEntry.id)
        .where(*_LIVE_ENTRIES)
        .order_by(InnovationEntry.region_code, InnovationEntry.id)  # the order scorecards keep
    )


async def sid_decisions(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, dict[str, Decision]]:
    """Verifier decisions on the regions' SID answers; driven by the decisions table, which is
    empty for most of a period."""
    rows = await session.execute(_sid_decisions(), period_regions(period_year, region_codes))
    decisions: dict[str, dict[str, Decision]] = defaultdict(dict)
    for entry, code, decision, level in rows:
        decisions[entry][code] = Decision(decision, level)
    return decisions


@cached_statement
def _sid_decisions() -> Executable:
    return (
        select(
            SidAnswer.entry_id.cast(String),
            SidAnswer.indicator,
            VerificationDecision.decision,
            VerificationDecision.level,
        )
        .join(SidAnswer, SidAnswer.id == VerificationDecision.sid_answer_id)
        .join(InnovationEntry, InnovationEntry.id == SidAnswer.entry_id)
        .where(*_LIVE_ENTRIES)
    )
