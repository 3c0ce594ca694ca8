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

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import InnovationInput, RegionInput
from iid_store.models import (
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


@dataclass(frozen=True)
class _Entry:
    id: uuid.UUID
    stage: str
    urusan: tuple[str, ...]
    implemented_on: date | None
    developed_on: date | None
    sent: bool
    rejected: bool

    def input(self, levels: dict[str, int], *, verified: bool) -> InnovationInput:
        return InnovationInput(
            id=str(self.id),
            stage=self.stage,
            rejected=verified and self.rejected,
            urusan=self.urusan,
            implemented_on=self.implemented_on,
            developed_on=self.developed_on,
            answers=levels,
        )


async def load_region_inputs(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, dict[Basis, LoadedInput]]:
    """Both bases of every region in `region_codes` (regions without data get empty inputs)."""
    spd = await _spd_answers(session, period_year, region_codes)
    entries = await _entries(session, period_year, region_codes)
    sid = await _sid_answers(session, period_year, region_codes)
    return {
        code: _region_inputs(code, spd.get(code, _Answers()), entries.get(code, []), sid)
        for code in region_codes
    }


async def load_region_input(
    session: AsyncSession, period_year: int, region_code: str, basis: Basis
) -> LoadedInput:
    return (await load_region_inputs(session, period_year, [region_code]))[region_code][basis]


def _region_inputs(
    code: str, spd: _Answers, entries: list[_Entry], sid: dict[uuid.UUID, _Answers]
) -> dict[Basis, LoadedInput]:
    empty = _Answers()
    claimed = tuple(e.input(sid.get(e.id, empty).claimed, verified=False) for e in entries)
    sent = [entry for entry in entries if entry.sent]
    verified = tuple(e.input(sid.get(e.id, empty).verified, verified=True) for e in sent)
    undecided = spd.undecided + sum(sid.get(entry.id, empty).undecided for entry in sent)
    return {
        Basis.CLAIMED: LoadedInput(RegionInput(spd.claimed, claimed, code), 0),
        Basis.VERIFIED: LoadedInput(RegionInput(spd.verified, verified, code), undecided),
    }


async def _spd_answers(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, _Answers]:
    rows = await session.execute(
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
    answers: dict[str, _Answers] = defaultdict(_Answers)
    for region, code, level, decision, lowered in rows:
        answers[region].add(code, level, decision, lowered)
    return answers


def _live_entries(period_year: int, region_codes: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    return (
        InnovationEntry.period_year == period_year,
        InnovationEntry.region_code.in_(region_codes),
        InnovationEntry.deleted_at.is_(None),
    )


async def _entries(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, list[_Entry]]:
    rows = await session.execute(
        select(
            InnovationEntry.region_code,
            InnovationEntry.id,
            InnovationEntry.stage,
            InnovationEntry.urusan,
            InnovationEntry.implemented_on,
            InnovationEntry.developed_on,
            InnovationEntry.status,
            InnovationRejection.entry_id,
        )
        .outerjoin(InnovationRejection, InnovationRejection.entry_id == InnovationEntry.id)
        .where(*_live_entries(period_year, region_codes))
        .order_by(InnovationEntry.id)  # a stable order, which the scorecards keep
    )
    entries: dict[str, list[_Entry]] = defaultdict(list)
    for region, entry_id, stage, urusan, implemented, developed, status, rejection in rows:
        entries[region].append(
            _Entry(
                id=entry_id,
                stage=stage,
                urusan=tuple(urusan),
                implemented_on=implemented,
                developed_on=developed,
                sent=status == "sent",
                rejected=rejection is not None,
            )
        )
    return entries


async def _sid_answers(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[uuid.UUID, _Answers]:
    rows = await session.execute(
        select(
            SidAnswer.entry_id,
            func.array_agg(SidAnswer.indicator),
            func.array_agg(SidAnswer.level),
            func.array_agg(VerificationDecision.decision),
            func.array_agg(VerificationDecision.level),
        )
        .join(InnovationEntry, InnovationEntry.id == SidAnswer.entry_id)
        .outerjoin(VerificationDecision, VerificationDecision.sid_answer_id == SidAnswer.id)
        .where(*_live_entries(period_year, region_codes))
        .group_by(SidAnswer.entry_id)
    )
    answers: dict[uuid.UUID, _Answers] = {}
    for entry_id, codes, levels, decisions, lowered in rows:
        if not any(decisions):  # nothing decided yet (every innovation while the period runs)
            claimed = dict(zip(codes, levels, strict=True))
            answers[entry_id] = _Answers(claimed, dict.fromkeys(codes, 0), len(codes))
            continue
        entry = answers[entry_id] = _Answers()
        for answer in zip(codes, levels, decisions, lowered, strict=True):
            entry.add(*answer)
    return answers
