"""Build the scoring library's input for regions of a period from the stored claims.

Two bases:
- `claimed`: what the region sees while filling: every live innovation entry of the period
  (sent or not) with the region's own levels.
- `verified`: sent entries only, with verifier decisions applied (accept keeps the claim, lower
  uses the verifier's level, reject and "not decided yet" score 0) and rejected innovations
  flagged. The number of undecided answers is returned beside it.

Both bases of many regions come from three queries (the worker's full recompute loads a whole
nation this way); SID answers arrive aggregated per innovation to keep the row count low.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, String, func, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from iid_scoring import InnovationInput, RegionInput
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


def verified_level(claimed: int, decision: str | None, lowered: int | None) -> int | None:
    """The level an answer scores on the verified basis; None while undecided."""
    if decision is None:
        return None
    if decision == "accept":
        return claimed
    if decision == "lower":
        return lowered
    return 0


@dataclass
class _Answers:
    """One set of answers on both bases, counting the undecided ones."""

    claimed: dict[str, int] = field(default_factory=dict)
    verified: dict[str, int] = field(default_factory=dict)
    undecided: int = 0

    def add(self, code: str, level: int, decision: str | None, lowered: int | None) -> None:
        self.claimed[code] = level
        decided = verified_level(level, decision, lowered)
        if decided is None:
            self.undecided += 1
        self.verified[code] = decided or 0


_Decisions = dict[str, dict[str, tuple[str, int | None]]]  # entry id -> code -> decision


class _Entry(NamedTuple):
    claimed: InnovationInput  # never flagged rejected: the claimed basis ignores verifiers
    sent: bool
    rejected: bool

    def verified(self, decisions: _Decisions) -> tuple[InnovationInput, int]:
        """The entry on the verified basis, and the number of its undecided answers."""
        claimed = self.claimed
        levels = cast(dict[str, int], claimed.answers)  # stored answers are resolved levels
        decided = decisions.get(claimed.id)
        if decided is None:  # nothing decided yet (every innovation while the period runs)
            verified, undecided = dict.fromkeys(levels, 0), len(levels)
        else:
            answers = _Answers()
            for code, level in levels.items():
                answers.add(code, level, *decided.get(code, (None, None)))
            verified, undecided = answers.verified, answers.undecided
        entry = InnovationInput(
            id=claimed.id,
            stage=claimed.stage,
            rejected=self.rejected,
            urusan=claimed.urusan,
            implemented_on=claimed.implemented_on,
            developed_on=claimed.developed_on,
            answers=verified,
        )
        return entry, undecided


async def load_region_inputs(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, dict[Basis, LoadedInput]]:
    """Both bases of every region in `region_codes` (regions without data get empty inputs)."""
    spd = await _spd_answers(session, period_year, region_codes)
    entries = await _entries(session, period_year, region_codes)
    decisions = await _sid_decisions(session, period_year, region_codes)
    return {
        code: _region_inputs(code, spd.get(code, _Answers()), entries.get(code, []), decisions)
        for code in region_codes
    }


async def load_region_input(
    session: AsyncSession, period_year: int, region_code: str, basis: Basis
) -> LoadedInput:
    return (await load_region_inputs(session, period_year, [region_code]))[region_code][basis]


def _region_inputs(
    code: str, spd: _Answers, entries: list[_Entry], decisions: _Decisions
) -> dict[Basis, LoadedInput]:
    claimed = tuple(entry.claimed for entry in entries)
    verified, undecided = [], spd.undecided
    for entry in entries:
        if entry.sent:
            innovation, pending = entry.verified(decisions)
            verified.append(innovation)
            undecided += pending
    return {
        Basis.CLAIMED: LoadedInput(RegionInput(spd.claimed, claimed, code), 0),
        Basis.VERIFIED: LoadedInput(RegionInput(spd.verified, tuple(verified), code), undecided),
    }


async def _spd_answers(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, _Answers]:
    answers: dict[str, _Answers] = defaultdict(_Answers)
    for region, code, level, decision, lowered in await spd_rows(
        session, period_year, region_codes
    ):
        answers[region].add(code, level, decision, lowered)
    return answers


async def spd_rows(session: AsyncSession, period_year: int, region_codes: Sequence[str]) -> Any:
    """(region, indicator, claimed level, decision or None, lowered level or None) of every
    SPD answer of the regions."""
    return await session.execute(
        select(
            SpdAnswer.region_code,
            SpdAnswer.indicator,
            SpdAnswer.level,
            VerificationDecision.decision,
            VerificationDecision.level,
        )
        .outerjoin(VerificationDecision, VerificationDecision.spd_answer_id == SpdAnswer.id)
        .where(SpdAnswer.period_year == period_year, SpdAnswer.region_code.in_(region_codes))
    )


def _live_entries(period_year: int, region_codes: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    return (
        InnovationEntry.period_year == period_year,
        InnovationEntry.region_code.in_(region_codes),
        InnovationEntry.deleted_at.is_(None),
    )


def _as_loaded(column: Any) -> Any:
    """The column as the driver returns it (lists for arrays; dicts for JSON, decoded by the
    connection's codec): SQLAlchemy's per-item array processing cost a fifth of a national
    load."""
    return type_coerce(column, NullType())


async def _entries(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, list[_Entry]]:
    # SID answers aggregated per entry through a LATERAL subquery: each entry's answers come
    # from the (entry_id, indicator) index, so loading many chunks of regions reads every
    # answer once; a join grouped by entry scanned the whole table for every chunk. They come
    # as one JSON object per entry, which the driver's json codec (the engine's orjson) turns
    # into the answers dict in C: a quarter faster than two arrays zipped in Python.
    per_entry = (
        select(
            _as_loaded(func.json_object_agg(SidAnswer.indicator, SidAnswer.level)).label("levels")
        )
        .where(SidAnswer.entry_id == InnovationEntry.id)
        .lateral("answers")
    )
    statement = (
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
        .where(*_live_entries(period_year, region_codes))
        .order_by(InnovationEntry.region_code, InnovationEntry.id)  # the order scorecards keep
    )
    entries: dict[str, list[_Entry]] = defaultdict(list)
    connection = await session.connection()  # Core rows: the ORM adds nothing to plain columns
    rows = (await connection.execute(statement)).all()
    for region, entry_id, stage, urusan, implemented, developed, sent, rejected, levels in rows:
        claimed = InnovationInput(
            id=entry_id,
            stage=stage,
            urusan=tuple(urusan),
            implemented_on=implemented,
            developed_on=developed,
            answers=levels or {},  # NULL: no answers
        )
        entries[region].append(_Entry(claimed, sent, rejected))
    return entries


async def _sid_decisions(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> _Decisions:
    """Verifier decisions on the regions' SID answers; driven by the decisions table, which is
    empty for most of a period."""
    rows = await session.execute(
        select(
            SidAnswer.entry_id.cast(String),
            SidAnswer.indicator,
            VerificationDecision.decision,
            VerificationDecision.level,
        )
        .join(SidAnswer, SidAnswer.id == VerificationDecision.sid_answer_id)
        .join(InnovationEntry, InnovationEntry.id == SidAnswer.entry_id)
        .where(*_live_entries(period_year, region_codes))
    )
    decisions: _Decisions = defaultdict(dict)
    for entry, code, decision, level in rows:
        decisions[entry][code] = (decision, level)
    return decisions
