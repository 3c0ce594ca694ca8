from typing import Annotated, Any

from fastapi import APIRouter, Query

from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import PageDep
from iid_api.kit.tenancy import PublicScopeDep
from iid_api.regions.schemas import Cluster
from iid_api.whatif import service
from iid_api.whatif.schemas import WhatIf
from iid_store.scoring_inputs import Basis

router = APIRouter(tags=["what-if"])


@router.get("/v1/periods/{year}/what-if", response_model=WhatIf)
async def edition_what_if(
    year: int,
    edition: Annotated[
        str,
        Query(
            description="a registered edition to score the period's data with, e.g."
            " iid-2027-draft (iid-2026 with the divisor floor 14)",
            examples=["iid-2027-draft"],
        ),
    ],
    cluster: Cluster,
    session: SessionDep,
    scope: PublicScopeDep,
    page: PageDep,
    basis: Annotated[
        Basis | None, Query(description="default: verified for published periods, else claimed")
    ] = None,
) -> Any:
    """Every region of the cluster scored from the period's stored answers under its own
    edition and under `edition`: index, rating and rank under both and the change (ordered by
    the current rank). Answers to indicators the other edition lacks are ignored and counted
    (`ignored_answers`, per region and in all, `ignored_indicators`); indicators only the other
    edition has count 0 (`missing_indicators`). Computed on request from the same inputs the
    worker scores. Visible like the cluster's ranking on that basis (public for a published
    period's verified basis)."""
    return await service.what_if(session, scope, year, edition, basis, cluster, page)
