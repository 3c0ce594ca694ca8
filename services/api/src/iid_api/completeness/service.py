"""The completeness report a Bappeda checks every morning before the deadline.

Six queries whatever the region's size (entries, agencies, SPD answers, SID answers, and the
evidence kinds of each); the arithmetic is in `figures`. An agency operator sees the report of
their own agency's innovations (and the region's SPD rows, which they may read anyway).
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.completeness.figures import (
    Answer,
    Assessment,
    Sheet,
    Tally,
    assess,
)
from iid_api.completeness.schemas import (
    Agencies,
    AgencyCompleteness,
    AgencyRef,
    CompletenessOut,
    InnovationCompleteness,
    InnovationRef,
    MandatoryEmpty,
    MissingEvidence,
    RefusedInnovation,
    SendingProblem,
)
from iid_api.innovations.sending import sending_problems
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period
from iid_api.regions.service import get_region
from iid_api.review.schemas import ReviewCountsOut
from iid_scoring import Edition
from iid_store.db import models
from iid_store.editions import period_edition
from iid_store.review import ReviewCounts

KindsByAnswer = dict[uuid.UUID, set[str]]


async def _entries(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> list[models.InnovationEntry]:
    entry = models.InnovationEntry
    rows = await session.scalars(
        select(entry)
        .where(
            entry.period_year == year,
            entry.region_code == region_code,
            entry.deleted_at.is_(None),
            scope.agencies(entry.agency_id),
        )
        .order_by(entry.created_at, entry.id)
    )
    return list(rows)


async def _agencies(session: AsyncSession, scope: Scope, region_code: str) -> list[models.Agency]:
    rows = await session.scalars(
        select(models.Agency)
        .where(models.Agency.region_code == region_code, scope.agencies(models.Agency.id))
        .order_by(models.Agency.name, models.Agency.id)
    )
    return list(rows)


async def _spd_answers(session: AsyncSession, year: int, region_code: str) -> dict[str, Answer]:
    rows = await session.execute(
        select(models.SpdAnswer.id, models.SpdAnswer.indicator, models.SpdAnswer.level).where(
            models.SpdAnswer.period_year == year, models.SpdAnswer.region_code == region_code
        )
    )
    return {code: Answer(answer_id, level) for answer_id, code, level in rows}


async def _sid_answers(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Answer]]:
    by_entry: dict[uuid.UUID, dict[str, Answer]] = defaultdict(dict)
    if entry_ids:
        answer = models.SidAnswer
        rows = await session.execute(
            select(answer.id, answer.entry_id, answer.indicator, answer.level).where(
                answer.entry_id.in_(entry_ids)
            )
        )
        for answer_id, entry_id, code, level in rows:
            by_entry[entry_id][code] = Answer(answer_id, level)
    return by_entry


async def _evidence_kinds(session: AsyncSession, answer_ids: Sequence[uuid.UUID]) -> KindsByAnswer:
    """The kinds of live evidence of each answer."""
    kinds: KindsByAnswer = defaultdict(set)
    evidence = models.Evidence
    # the ids are of one region and period: a few thousand at most
    for column in (evidence.spd_answer_id, evidence.sid_answer_id):
        rows = await session.execute(
            select(column, evidence.kind)
            .where(column.in_(answer_ids), evidence.deleted_at.is_(None))
            .distinct()
        )
        for answer_id, kind in rows:
            if answer_id is not None:
                kinds[answer_id].add(kind)
    return kinds


def _agencies_summary(
    agencies: list[models.Agency],
    entries: list[models.InnovationEntry],
    tallies: dict[uuid.UUID, Tally],
) -> Agencies:
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for entry in entries:
        counts[entry.agency_id] += 1
    live = [agency for agency in agencies if agency.deleted_at is None]
    # a deleted agency still shows while it has innovations this period
    shown = [agency for agency in agencies if agency.deleted_at is None or counts[agency.id]]
    participating = sum(1 for agency in live if counts[agency.id])
    return Agencies(
        total=len(live),
        participating=participating,
        summary=f"{participating} of {len(live)} agencies took part",
        without_innovation=[
            AgencyRef(id=str(agency.id), name=agency.name)
            for agency in live
            if not counts[agency.id]
        ],
        items=[
            AgencyCompleteness(
                id=str(agency.id),
                name=agency.name,
                innovations=counts[agency.id],
                figures=tallies.get(agency.id, Tally()).figures(),
            )
            for agency in shown
        ],
    )


def _ref(entry: models.InnovationEntry) -> InnovationRef:
    return InnovationRef(id=str(entry.id), name=entry.name, agency_id=str(entry.agency_id))


async def region_completeness(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> CompletenessOut:
    scope.require_visible_region(region_code)
    region = await get_region(session, region_code)
    period = await get_period(session, year)
    edition = await period_edition(session, period)
    entries = await _entries(session, scope, year, region_code)
    agencies = await _agencies(session, scope, region_code)
    spd = await _spd_answers(session, year, region_code)
    sid = await _sid_answers(session, [entry.id for entry in entries])
    answer_ids = [a.id for a in spd.values()] + [a.id for s in sid.values() for a in s.values()]
    kinds = await _evidence_kinds(session, answer_ids)

    spd_result = assess(Sheet("spd", edition.spd_indicators, spd), kinds)
    report = _Report(edition, (period.implementation_starts_on, period.implementation_ends_on))
    for entry in entries:
        report.add(entry, sid.get(entry.id, {}), kinds)
    total = Tally()
    total += spd_result.tally
    total += report.sid
    return CompletenessOut(
        period_year=year,
        region_code=region_code,
        region_name=region.name,
        edition=edition.code,
        total=total.figures(),
        spd=spd_result.tally.figures(),
        sid=report.sid.figures(),
        agencies=_agencies_summary(agencies, entries, report.by_agency),
        review=ReviewCountsOut.of(
            ReviewCounts.tally([(entry.status, entry.review_state, 1) for entry in entries])
        ),
        innovations=report.innovations,
        missing_evidence=spd_result.missing_evidence + report.missing_evidence,
        mandatory_empty=spd_result.mandatory_empty + report.mandatory_empty,
        not_sent=[_ref(entry) for entry in entries if entry.status != "sent"],
        refused_at_sending=report.refused,
    )


class _Report:
    """Accumulates the SID side innovation by innovation."""

    def __init__(self, edition: Edition, window: tuple[date, date]) -> None:
        self.edition = edition
        self.window = window
        self.sid = Tally()
        self.by_agency: dict[uuid.UUID, Tally] = defaultdict(Tally)
        self.innovations: list[InnovationCompleteness] = []
        self.missing_evidence: list[MissingEvidence] = []
        self.mandatory_empty: list[MandatoryEmpty] = []
        self.refused: list[RefusedInnovation] = []

    def add(
        self, entry: models.InnovationEntry, answers: dict[str, Answer], kinds: KindsByAnswer
    ) -> None:
        sheet = Sheet("sid", self.edition.sid_indicators, answers, str(entry.id), entry.name)
        result: Assessment = assess(sheet, kinds)
        self.sid += result.tally
        self.by_agency[entry.agency_id] += result.tally
        self.missing_evidence += result.missing_evidence
        self.mandatory_empty += result.mandatory_empty
        problems: list[SendingProblem] = []
        if entry.status != "sent":
            checks = sending_problems(
                self.edition,
                self.window,
                design=entry.design,
                implemented_on=entry.implemented_on,
                developed_on=entry.developed_on,
                answered={code for code, answer in answers.items() if answer.level > 0},
            )
            problems = [SendingProblem(code=check.code, detail=check.detail) for check in checks]
        if problems:
            self.refused.append(RefusedInnovation(**_ref(entry).model_dump(), problems=problems))
        self.innovations.append(
            InnovationCompleteness(
                **_ref(entry).model_dump(),
                status=entry.status,
                review_state=entry.review_state,
                figures=result.tally.figures(),
                sending_problems=problems,
            )
        )
