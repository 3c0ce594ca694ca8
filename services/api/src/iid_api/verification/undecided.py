"""What verifiers have left to decide, and the publication guard built on it (the periods
domain asks `guard_publication` before publishing). The counting rule is the repository's
`_per_region` definition; this module only shapes it."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.errors import Conflict
from iid_api.kit.pagination import PageParams
from iid_api.verification import repository
from iid_api.verification.repository import RegionFilter, everywhere
from iid_api.verification.schemas import RegionUndecidedOut, UndecidedPage

# the regions a refused publication lists in its answer; the rest are a link away
FIRST_PAGE = PageParams(page=1, limit=50)


class UndecidedAnswers(Conflict):
    slug = "undecided-answers"


async def undecided_page(
    session: AsyncSession, year: int, params: PageParams, visible: RegionFilter = everywhere
) -> UndecidedPage:
    """The regions with undecided answers (those `visible` lets through) and the sums."""
    rows, total = await repository.undecided_page(session, year, params, visible)
    sums = await repository.undecided_totals(session, year, visible)
    return UndecidedPage(
        items=[
            RegionUndecidedOut(
                region_code=row.region_code,
                region_name=row.region_name,
                undecided_answers=row.answers,
                undecided_innovations=row.innovations,
            )
            for row in rows
        ],
        total=total,
        page=params.page,
        limit=params.limit,
        undecided_answers=sums.answers,
        undecided_innovations=sums.innovations,
    )


async def guard_publication(
    session: AsyncSession, year: int, *, force: bool
) -> dict[str, Any] | None:
    """None when every answer is decided. Otherwise a 409 listing the first regions and the
    sums, or with `force` every region's counts, for the audit trail of the publication."""
    first = await undecided_page(session, year, FIRST_PAGE)
    if first.total == 0:
        return None
    if not force:
        raise UndecidedAnswers(
            f"period {year} has {first.undecided_answers} undecided answers "
            f"({first.undecided_innovations} sent innovations) in {first.total} regions: "
            'decide them, or publish anyway with {"to": "published", "force": true}',
            extensions={
                "undecided": first.model_dump(mode="json"),
                "undecided_url": f"/v1/periods/{year}/undecided-answers",
            },
        )
    every = await undecided_page(session, year, PageParams(page=1, limit=first.total))
    return {
        "undecided_answers": every.undecided_answers,
        "undecided_innovations": every.undecided_innovations,
        "regions": [item.model_dump(exclude={"region_name"}) for item in every.items],
    }
