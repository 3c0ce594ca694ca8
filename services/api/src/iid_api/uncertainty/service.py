"""Rank uncertainty during verification: reads of the worker's last simulation, the decision
model, and requests for a new run.

Who sees what: the decision model and a cluster's uncertainty span every region's
verification, which no region may see before publication: national roles only (national
admins, verifiers, national viewers). A region's outlook is its own: the region's admin and
viewers (as for its verification results; agency operators see only their agency's
innovations, so not this) and national roles.
"""

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.errors import Conflict, NotFound
from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_api.uncertainty import repository
from iid_api.uncertainty.schemas import (
    DecisionModelOut,
    IndexOutlook,
    PendingAnswer,
    RankOutlook,
    RegionOutlook,
    RegionUncertainty,
    RunInfo,
    UncertaintyRanking,
    UncertaintyRequested,
)
from iid_scoring.decision_model import estimate, model_document
from iid_store.db import models
from iid_store.outbox import mark_period_for_uncertainty
from iid_store.uncertainty import count_decisions

# Periods a run may be requested for: verification running, or about to (a forecast from the
# published periods' decisions alone).
SIMULATED_STATUSES = ("closed", "verifying")


async def _visible_period(session: AsyncSession, scope: Scope, year: int) -> catalog.PeriodInfo:
    period = await catalog.period(session, year)
    scope.require_visible_period(year, period.status)
    return period


async def decision_model(session: AsyncSession, scope: Scope, year: int) -> DecisionModelOut:
    scope.require_national("the decision model")
    period = await _visible_period(session, scope, year)
    edition = await catalog.edition(session, period.edition_code)
    counted = await count_decisions(session, year)
    document = model_document(estimate(edition, counted.counts))
    for indicator in document["indicators"]:
        indicator["aspect"] = edition.indicator(indicator["indicator"]).aspect
    return DecisionModelOut(
        period=year,
        edition=edition.code,
        decisions_counted=counted.decisions,
        decisions_as_of=counted.as_of,
        edition_rates=document.pop("edition"),
        **document,
    )


async def _run(session: AsyncSession, year: int) -> tuple[models.UncertaintyRun, RunInfo]:
    run = await repository.run(session, year)
    if run is None:
        raise NotFound(f"no rank uncertainty has been simulated for period {year} yet")
    info = RunInfo(
        period=year,
        edition=run.edition_code,
        draws=run.draws,
        seed=run.seed,
        decisions_as_of=run.decisions_as_of,
        decisions_counted=run.decisions_counted,
        undecided_answers=run.undecided_answers,
        undecided_innovations=run.undecided_innovations,
        computed_at=run.computed_at,
        stale=await repository.marker_pending(session, year),
    )
    return run, info


def _rank(row: models.UncertaintyRank, verified: int | None) -> RankOutlook:
    return RankOutlook(
        cluster=row.cluster,
        verified_rank=verified,
        expected_rank=f"{row.expected_rank:.2f}",
        median_rank=row.median_rank,
        rank_low=row.rank_low,
        rank_high=row.rank_high,
        top10_probability=f"{row.top_probability:.4f}",
    )


def _index(card: models.UncertaintyRegion) -> dict[str, Any]:
    return IndexOutlook(
        expected_index=f"{card.expected_index:.2f}",
        index_low=f"{card.index_low:.2f}",
        index_high=f"{card.index_high:.2f}",
        lowest_index=f"{card.lowest_index:.2f}",
        highest_index=f"{card.highest_index:.2f}",
        rating_probabilities=card.ratings,
        undecided_answers=card.undecided_answers,
        undecided_innovations=card.undecided_innovations,
    ).model_dump()


async def cluster_uncertainty(
    session: AsyncSession, scope: Scope, year: int, cluster: str, params: PageParams
) -> UncertaintyRanking:
    scope.require_national("a cluster's rank uncertainty")
    await _visible_period(session, scope, year)
    _, info = await _run(session, year)
    rows, total = await fetch_page(
        session, repository.cluster_statement(year, cluster), params, scalars=False
    )
    items = [
        RegionUncertainty(
            region_code=rank.region_code,
            region_name=name,
            **_rank(rank, verified).model_dump(),
            **_index(card),
        )
        for rank, card, name, verified in rows
    ]
    return UncertaintyRanking(
        run=info, items=items, total=total, page=params.page, limit=params.limit
    )


async def region_outlook(
    session: AsyncSession, scope: Scope, year: int, code: str, params: PageParams
) -> tuple[RegionOutlook, str]:
    """The region's outlook and its ETag (it changes with every run)."""
    scope.require_verification_reader(code)
    region = await catalog.region(session, code)
    await _visible_period(session, scope, year)
    run, info = await _run(session, year)
    card = await repository.region(session, year, code)
    if card is None:
        raise NotFound(f"region {code} was not in the last simulation of period {year}")
    ranks = [
        _rank(row, verified) for row, verified in await repository.region_ranks(session, year, code)
    ]
    pending = await _pending(session, year, code, run, card)
    start = params.offset
    outlook = RegionOutlook(
        period=year,
        region_code=code,
        region_name=region.name,
        run=info,
        ranks=ranks,
        pending={
            "items": pending[start : start + params.limit],
            "total": len(pending),
            "page": params.page,
            "limit": params.limit,
        },
        **_index(card),
    )
    return outlook, _etag(run, code, info.stale)


def _etag(run: models.UncertaintyRun, code: str, stale: bool) -> str:
    token = f"{run.period_year}/{code}/{run.generation}/{run.computed_at.isoformat()}/{stale}"
    return '"' + hashlib.sha256(token.encode()).hexdigest()[:20] + '"'


async def _pending(
    session: AsyncSession,
    year: int,
    code: str,
    run: models.UncertaintyRun,
    card: models.UncertaintyRegion,
) -> list[PendingAnswer]:
    """The region's undecided answers now, the ones worth most places first."""
    accept = {
        (indicator["indicator"], cell["claimed_level"]): cell["probabilities"]["accept"]
        for indicator in run.model["indicators"]
        for cell in indicator["cells"]
    }
    answers: list[tuple[str, str, str | None, str | None, int]] = [
        ("spd", indicator, None, None, level)
        for indicator, level in await repository.pending_spd(session, year, code)
    ]
    answers += [
        ("sid", indicator, entry, name, level)
        for entry, name, indicator, level in await repository.pending_sid(session, year, code)
    ]
    pending = []
    for aspect, indicator, entry, name, level in answers:
        rank_gain, index_gain = card.impacts.get(f"{aspect}:{indicator}:{level}", (None, None))
        pending.append(
            PendingAnswer(
                aspect=aspect,
                indicator=indicator,
                innovation_id=entry,
                innovation_name=name,
                claimed_level=level,
                # a claim of 0 has nothing to lose: "accepted" whatever the verifier does
                accept_probability=accept.get((indicator, level), "1.0000"),
                rank_gain=None if rank_gain is None else f"{rank_gain:.2f}",
                index_gain=index_gain,
            )
        )
    pending.sort(
        key=lambda p: (
            -float(p.rank_gain or 0),
            -float(p.index_gain or 0),
            p.aspect != "spd",
            p.innovation_id or "",
            p.indicator,
        )
    )
    return pending


async def request_run(session: AsyncSession, scope: Scope, year: int) -> UncertaintyRequested:
    scope.require_national_admin("request a rank-uncertainty simulation")
    period = await catalog.fresh_period(session, year)
    if period.status not in SIMULATED_STATUSES:
        raise Conflict(
            f"period {year} is {period.status}: rank uncertainty is simulated while a period is"
            " closed or verifying"
        )
    await mark_period_for_uncertainty(session, year)
    marker = await session.get(models.UncertaintyMarker, year, populate_existing=True)
    assert marker is not None
    requested_at: datetime = marker.requested_at
    await session.commit()
    return UncertaintyRequested(period=year, requested_at=requested_at)
