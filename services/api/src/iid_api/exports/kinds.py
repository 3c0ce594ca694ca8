"""What can be exported: each kind's filters (the route's parameters) and the Document it
builds, the one function the route's `format=` and the worker both call."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit import export as audit
from iid_api.completeness import export as completeness
from iid_api.innovations import export as innovations
from iid_api.kit.exports import RegionFilters
from iid_api.kit.schemas import InputModel
from iid_api.kit.spreadsheets import Document
from iid_api.kit.tenancy import Scope
from iid_api.rankings import export as rankings
from iid_api.scorecards import export as scorecards
from iid_api.verification import export as verification

Build = Callable[[AsyncSession, Scope, Any], Awaitable[Document]]


@dataclass(frozen=True)
class Kind:
    filters: type[InputModel]
    build: Build


KINDS: dict[str, Kind] = {
    "rankings": Kind(rankings.RankingFilters, rankings.document),
    "scorecard": Kind(RegionFilters, scorecards.document),
    "completeness": Kind(RegionFilters, completeness.document),
    "verification": Kind(RegionFilters, verification.document),
    "innovations": Kind(innovations.InnovationFilters, innovations.document),
    "audit": Kind(audit.AuditFilters, audit.document),
}
