"""Edition what-if: score a cluster's stored data (one basis) under another registered edition
and compare index, rating and rank with the period's own edition.

Answers keep their stored levels (numeric SPD rows were resolved with the period's edition when
they were written). Answers to indicators the other edition lacks are ignored and counted;
indicators only the other edition has were never answered and count 0. Both editions' figures
are computed here from the same inputs. Who may see it: as the cluster's ranking on that
basis (public for a published period's verified basis, else any signed-in caller).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.errors import InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.whatif.schemas import Standing, WhatIf, WhatIfRow
from iid_scoring import (
    Edition,
    InnovationInput,
    RankingEntry,
    RegionInput,
    rank_entries,
    score_region,
)
from iid_scoring.inputs import Answer
from iid_store.db import models
from iid_store.scoring_inputs import Basis, load_region_inputs


def adapt(region: RegionInput, edition: Edition) -> tuple[RegionInput, int]:
    """The input without answers to indicators `edition` lacks, and how many were dropped."""
    spd_codes = {i.code for i in edition.spd_indicators}
    sid_codes = {i.code for i in edition.sid_indicators}
    spd = _known(region.spd, spd_codes)
    ignored = len(region.spd) - len(spd)
    innovations = []
    for innovation in region.innovations:
        answers = _known(innovation.answers, sid_codes)
        ignored += len(innovation.answers) - len(answers)
        innovations.append(
            InnovationInput(
                id=innovation.id,
                stage=innovation.stage,
                rejected=innovation.rejected,
                urusan=innovation.urusan,
                implemented_on=innovation.implemented_on,
                developed_on=innovation.developed_on,
                answers=answers,
            )
        )
    return RegionInput(spd=spd, innovations=tuple(innovations), region=region.region), ignored


def _known(answers: Mapping[str, Answer], codes: set[str]) -> dict[str, Answer]:
    return {code: answer for code, answer in answers.items() if code in codes}


def _standings(edition: Edition, inputs: Mapping[str, RegionInput]) -> dict[str, Standing]:
    cards = {code: score_region(edition, region) for code, region in inputs.items()}
    ranked = rank_entries(
        RankingEntry(code, card.index, card.total_score) for code, card in cards.items()
    )
    return {
        entry.region: Standing(
            index=f"{entry.index:.2f}", rating=cards[entry.region].rating, rank=entry.rank
        )
        for entry in ranked
    }


def compare(
    edition: Edition, other: Edition, inputs: Mapping[str, RegionInput]
) -> dict[str, dict[str, Any]]:
    """Per region (in the current ranking's order): its standing under both editions, the
    changes, and the answers the other edition ignored."""
    adapted = {code: adapt(region, other) for code, region in inputs.items()}
    current = _standings(edition, inputs)
    changed = _standings(other, {code: region for code, (region, _) in adapted.items()})
    return {
        code: {
            "current": current[code],
            "other": changed[code],
            "index_change": f"{Decimal(changed[code].index) - Decimal(current[code].index):.2f}",
            "rank_change": current[code].rank - changed[code].rank,
            "rating_changed": current[code].rating != changed[code].rating,
            "ignored_answers": adapted[code][1],
        }
        for code in sorted(inputs, key=lambda c: (current[c].rank, c))
    }


async def what_if(
    session: AsyncSession,
    scope: Scope,
    year: int,
    other_code: str,
    basis: Basis | None,
    cluster: str,
    params: PageParams,
) -> WhatIf:
    period, edition = await catalog.period_edition(session, year)
    scope.require_visible_period(year, period.status)
    chosen = basis or (Basis.VERIFIED if period.status == "published" else Basis.CLAIMED)
    scope.require_visible_national_results(period.status, verified=chosen is Basis.VERIFIED)
    try:
        other = await catalog.edition(session, other_code)
    except NotFound:
        raise InvalidInput.at("/query/edition", f"edition {other_code} is not registered") from None
    members = await _members(session, year, cluster)
    loaded = await load_region_inputs(session, year, sorted(members))
    inputs = {code: bases[chosen].region_input for code, bases in loaded.items()}
    rows = [
        WhatIfRow(region_code=code, region_name=members[code], **compared)
        for code, compared in compare(edition, other, inputs).items()
    ]
    answered = {code for region in inputs.values() for code in _codes(region)}
    other_codes = {i.code for i in other.indicators}
    own_codes = {i.code for i in edition.indicators}
    start = params.offset
    return WhatIf(
        period=year,
        basis=chosen.value,
        cluster=cluster,
        edition=edition.code,
        other_edition=other.code,
        other_provisional=other.provisional,
        ignored_answers=sum(row.ignored_answers for row in rows),
        ignored_indicators=sorted(answered - other_codes),
        missing_indicators=[i.code for i in other.indicators if i.code not in own_codes],
        ratings_changed=sum(row.rating_changed for row in rows),
        items=rows[start : start + params.limit],
        total=len(rows),
        page=params.page,
        limit=params.limit,
    )


def _codes(region: RegionInput) -> set[str]:
    codes = set(region.spd)
    for innovation in region.innovations:
        codes.update(innovation.answers)
    return codes


async def _members(session: AsyncSession, year: int, cluster: str) -> dict[str, str]:
    """The cluster's regions: code -> name."""
    member, region = models.ClusterMembership, models.Region
    rows = await session.execute(
        select(region.code, region.name)
        .join(member, member.region_code == region.code)
        .where(member.period_year == year, member.cluster == cluster)
    )
    return {code: name for code, name in rows}
