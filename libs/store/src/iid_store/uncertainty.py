"""What the rank-uncertainty simulation reads: each region's verification state, and the
decisions counted for the decision model.

Rules (the verified basis: the scoring library's `verified_level`, applied in `_split`):
- a decided answer is a fact: accept keeps the claimed level, lower uses the verifier's level,
  reject scores 0; an undecided answer is pending, with its claimed level;
- an innovation with a whole rejection is rejected (a fact); one with at least one decided
  answer and no rejection is kept (the verifier judged its answers rather than the whole);
  one without any decision is undecided: the simulation may still reject it as a whole.

Counted for the model: the decisions of every published period and of the period itself, by
indicator code, claimed level and outcome; innovations rejected, and innovations kept (every
sent one without a rejection in a published period; in the period itself, the kept ones as
above).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import Decision, verified_level
from iid_scoring.decision_model import DecisionCounts, outcome_of
from iid_scoring.uncertain import KEPT, REJECTED, UNDECIDED, UncertainInnovation, UncertainRegion
from iid_store.db.models import (
    InnovationEntry,
    InnovationRejection,
    Period,
    SidAnswer,
    SpdAnswer,
    VerificationDecision,
)
from iid_store.scoring_inputs import SpdClaims, live_entries, sid_decisions, spd_claims


def _split(
    claimed: Mapping[str, int], decided: Mapping[str, Decision]
) -> tuple[dict[str, int], dict[str, int]]:
    """(verified levels of the decided answers, claimed levels of the undecided ones)."""
    facts, pending = {}, {}
    for code, level in claimed.items():
        verified = verified_level(level, decided.get(code))
        if verified is None:
            pending[code] = level
        else:
            facts[code] = verified
    return facts, pending


async def load_uncertain_regions(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[str, UncertainRegion]:
    """Every region of `region_codes` (those without data are empty: index 0 in every draw)."""
    spd = await spd_claims(session, period_year, region_codes)
    entries, rejected = await live_entries(session, period_year, region_codes)
    decisions = await sid_decisions(session, period_year, region_codes)
    regions = {}
    for code in region_codes:
        claims = spd.get(code, SpdClaims())
        facts, pending = _split(claims.claimed, claims.decisions)
        innovations = []
        for entry in entries.get(code, []):
            if not entry.sent:
                continue
            claim = entry.claimed
            answers_decided = decisions.get(claim.id, {})
            levels = cast(Mapping[str, int], claim.answers)  # stored answers are levels
            done, waiting = _split(levels, answers_decided)
            rejection = REJECTED if claim.id in rejected else KEPT if answers_decided else UNDECIDED
            innovations.append(
                UncertainInnovation(
                    id=claim.id,
                    stage=claim.stage,
                    urusan=claim.urusan,
                    implemented_on=claim.implemented_on,
                    developed_on=claim.developed_on,
                    decided=done,
                    pending=waiting,
                    rejection=rejection,
                )
            )
        regions[code] = UncertainRegion(code, facts, pending, tuple(innovations))
    return regions


@dataclass(frozen=True)
class CountedDecisions:
    counts: DecisionCounts
    decisions: int  # answers decided, over every period counted
    as_of: datetime | None  # the period's newest decision or rejection


def _counted_periods(period_year: int) -> Any:
    return or_(Period.year == period_year, Period.status == "published")


async def count_decisions(session: AsyncSession, period_year: int) -> CountedDecisions:
    decision = VerificationDecision
    entry = InnovationEntry
    counted_period = _counted_periods(period_year)
    spd = (
        select(SpdAnswer.indicator, SpdAnswer.level, decision.decision, decision.level)
        .join(decision, decision.spd_answer_id == SpdAnswer.id)
        .join(Period, Period.year == SpdAnswer.period_year)
        .where(counted_period)
    )
    sid = (
        select(SidAnswer.indicator, SidAnswer.level, decision.decision, decision.level)
        .join(decision, decision.sid_answer_id == SidAnswer.id)
        .join(entry, entry.id == SidAnswer.entry_id)
        .join(Period, Period.year == entry.period_year)
        .where(counted_period, entry.deleted_at.is_(None), entry.status == "sent")
    )
    both = union_all(spd, sid).subquery()
    # indicator, claimed level, decision, lowered level, count
    counted = select(both.c[0], both.c[1], both.c[2], both.c[3], func.count())
    rows = await session.execute(counted.group_by(*both.c))
    answers: dict[tuple[str, int, str], int] = defaultdict(int)
    for code, claimed, made, lowered, n in rows:
        answers[code, claimed, outcome_of(made, lowered)] += n
    rejected, kept = await _innovations_counted(session, period_year)
    return CountedDecisions(
        DecisionCounts(dict(answers), rejected, kept),
        sum(answers.values()),
        await _decisions_as_of(session, period_year),
    )


async def _innovations_counted(session: AsyncSession, period_year: int) -> tuple[int, int]:
    """(rejected, kept) sent innovations of the counted periods."""
    entry = InnovationEntry
    decided = (
        select(SidAnswer.entry_id)
        .join(VerificationDecision, VerificationDecision.sid_answer_id == SidAnswer.id)
        .where(SidAnswer.entry_id == entry.id)
        .exists()
    )
    rejected = InnovationRejection.entry_id.is_not(None)
    # kept: published periods' sent innovations without a rejection; in this period only once
    # the verifier has decided one of its answers
    kept = ~rejected & ((Period.status == "published") | decided)
    row = (
        await session.execute(
            select(func.count().filter(rejected), func.count().filter(kept))
            .select_from(entry)
            .join(Period, Period.year == entry.period_year)
            .outerjoin(InnovationRejection, InnovationRejection.entry_id == entry.id)
            .where(
                _counted_periods(period_year), entry.deleted_at.is_(None), entry.status == "sent"
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def _decisions_as_of(session: AsyncSession, period_year: int) -> datetime | None:
    decision = VerificationDecision
    entry = InnovationEntry
    spd = (
        select(func.max(decision.decided_at))
        .join(SpdAnswer, SpdAnswer.id == decision.spd_answer_id)
        .where(SpdAnswer.period_year == period_year)
    )
    sid = (
        select(func.max(decision.decided_at))
        .join(SidAnswer, SidAnswer.id == decision.sid_answer_id)
        .join(entry, entry.id == SidAnswer.entry_id)
        .where(entry.period_year == period_year)
    )
    rejections = (
        select(func.max(InnovationRejection.decided_at))
        .join(entry, entry.id == InnovationRejection.entry_id)
        .where(entry.period_year == period_year)
    )
    latest = union_all(spd, sid, rejections).subquery()
    value: datetime | None = await session.scalar(select(func.max(latest.c[0])))
    return value
