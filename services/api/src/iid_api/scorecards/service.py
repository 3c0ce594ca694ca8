"""Live scorecard preview: the scoring library run on the current answers, on request.
(Stored snapshots, written by the worker, are what the hot read paths serve.)"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period, period_edition
from iid_api.regions.service import get_region
from iid_scoring import score_region
from iid_store.scoring_inputs import Basis, load_region_input


async def preview(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> dict[str, Any]:
    scope.require_visible_region(region_code)
    await get_region(session, region_code)
    period = await get_period(session, year)
    edition = await period_edition(session, period)
    loaded = await load_region_input(session, year, region_code, basis)
    scorecard = score_region(edition, loaded.region_input)
    return {
        **scorecard.to_dict(),
        "period": year,
        "basis": basis.value,
        "undecided_answers": loaded.undecided_answers,
        "computed_at": datetime.now(UTC).isoformat(),
    }
