"""The completeness report a Bappeda checks every morning before the deadline.

Six queries whatever the region's size (entries, agencies, SPD answers, SID answers, and the
evidence kinds of each); the arithmetic is in `figures`. An agency operator sees the report of
their own agency's innovations (and the region's SPD rows, which they may read anyway).
"""

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.completeness import repository
from iid_api.completeness.figures import (
    Answer,
    Assessment,
    Sheet,
    Tally,
    assess,
)
from iid_api.completeness.repository import KindsByAnswer
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
from iid_api.review.schemas import ReviewCountsOut
from iid_scoring import Edition
from iid_store.db import models
from iid_store.review import ReviewCounts


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
    region = await catalog.region(session, region_code)
    _, edition = await catalog.period_edition(session, year)
    entries = await repository.entries(session, scope, year, region_code)
    agencies = await repository.agencies(session, scope, region_code)
    spd = await repository.spd_answers(session, year, region_code)
    sid = await repository.sid_answers(session, [entry.id for entry in entries])
    answer_ids = [a.id for a in spd.values()] + [a.id for s in sid.values() for a in s.values()]
    kinds = await repository.evidence_kinds(session, answer_ids)

    spd_result = assess(Sheet("spd", edition.spd_indicators, spd), kinds)
    report = _Report(edition)
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

    def __init__(self, edition: Edition) -> None:
        self.edition = edition
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
