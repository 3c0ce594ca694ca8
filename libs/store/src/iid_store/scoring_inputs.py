"""Build the scoring library's input for one region and period from the stored claims.

Two bases:
- `claimed`: what the region sees while filling: every live innovation entry of the period
  (sent or not) with the region's own levels.
- `verified`: sent entries only, with verifier decisions applied (accept keeps the claim, lower
  uses the verifier's level, reject and "not decided yet" score 0) and rejected innovations
  flagged. The number of undecided answers is returned beside it.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
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


def _verified_level(claimed: int, decision: VerificationDecision | None) -> int | None:
    """The level an answer scores on the verified basis; None while undecided."""
    if decision is None:
        return None
    if decision.decision == "accept":
        return claimed
    if decision.decision == "lower":
        return decision.level
    return 0


async def load_region_input(
    session: AsyncSession, period_year: int, region_code: str, basis: Basis
) -> LoadedInput:
    verified = basis is Basis.VERIFIED
    undecided = 0

    def level_of(claimed: int, decision: VerificationDecision | None) -> int:
        nonlocal undecided
        if not verified:
            return claimed
        level = _verified_level(claimed, decision)
        if level is None:
            undecided += 1
            return 0
        return level

    spd_rows = await session.execute(
        select(SpdAnswer, VerificationDecision)
        .outerjoin(VerificationDecision, VerificationDecision.spd_answer_id == SpdAnswer.id)
        .where(SpdAnswer.period_year == period_year, SpdAnswer.region_code == region_code)
    )
    spd = {answer.indicator: level_of(answer.level, decision) for answer, decision in spd_rows}

    entry_query = (
        select(InnovationEntry, InnovationRejection.entry_id)
        .outerjoin(InnovationRejection, InnovationRejection.entry_id == InnovationEntry.id)
        .where(
            InnovationEntry.period_year == period_year,
            InnovationEntry.region_code == region_code,
            InnovationEntry.deleted_at.is_(None),
        )
        .order_by(InnovationEntry.id)
    )
    if verified:
        entry_query = entry_query.where(InnovationEntry.status == "sent")
    entries = (await session.execute(entry_query)).all()

    answers: dict[uuid.UUID, dict[str, int]] = {entry.id: {} for entry, _ in entries}
    if answers:
        sid_rows = await session.execute(
            select(SidAnswer, VerificationDecision)
            .outerjoin(VerificationDecision, VerificationDecision.sid_answer_id == SidAnswer.id)
            .where(SidAnswer.entry_id.in_(answers.keys()))
        )
        for answer, decision in sid_rows:
            answers[answer.entry_id][answer.indicator] = level_of(answer.level, decision)

    innovations = tuple(
        InnovationInput(
            id=str(entry.id),
            stage=entry.stage,
            rejected=verified and rejection is not None,
            urusan=tuple(entry.urusan),
            implemented_on=entry.implemented_on,
            developed_on=entry.developed_on,
            answers=answers[entry.id],
        )
        for entry, rejection in entries
    )
    region_input = RegionInput(spd=spd, innovations=innovations, region=region_code)
    return LoadedInput(region_input=region_input, undecided_answers=undecided)
