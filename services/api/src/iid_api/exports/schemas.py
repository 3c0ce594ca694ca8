import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from iid_api.audit.export import AuditFilters
from iid_api.innovations.export import InnovationFilters
from iid_api.kit.exports import Delimiter, ExportFormat, RegionFilters
from iid_api.kit.schemas import InputModel, OutputModel
from iid_api.rankings.export import RankingFilters

ExportStatus = Literal["queued", "running", "done", "failed", "expired"]


class _ExportIn(InputModel):
    format: ExportFormat = Field(examples=["xlsx"])
    delimiter: Delimiter = Field(
        default=",", description="CSV: `;` also writes decimals with a comma"
    )
    table: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[a-z_]+$",
        description="CSV of a report with several tables: which one (default the first)",
    )


class RankingsExportIn(_ExportIn):
    what: Literal["rankings"]
    filters: RankingFilters


class ScorecardExportIn(_ExportIn):
    what: Literal["scorecard"]
    filters: RegionFilters


class CompletenessExportIn(_ExportIn):
    what: Literal["completeness"]
    filters: RegionFilters


class VerificationExportIn(_ExportIn):
    what: Literal["verification"]
    filters: RegionFilters


class InnovationsExportIn(_ExportIn):
    what: Literal["innovations"]
    filters: InnovationFilters


class AuditExportIn(_ExportIn):
    what: Literal["audit"]
    filters: AuditFilters


ExportIn = Annotated[
    RankingsExportIn
    | ScorecardExportIn
    | CompletenessExportIn
    | VerificationExportIn
    | InnovationsExportIn
    | AuditExportIn,
    Field(discriminator="what"),
]

EXPORT_EXAMPLES: dict[str, dict[str, Any]] = {
    "national_ranking": {
        "summary": "Every cluster's ranking of 2026, as one workbook",
        "value": {"what": "rankings", "format": "xlsx", "filters": {"period": 2026}},
    },
    "audit": {
        "summary": "Kota Parepare's audit trail since September, as CSV for Excel",
        "value": {
            "what": "audit",
            "format": "csv",
            "delimiter": ";",
            "filters": {"region": "73.72", "since": "2026-09-01T00:00:00Z"},
        },
    },
}


class ExportOut(OutputModel):
    id: uuid.UUID
    what: str
    format: ExportFormat
    delimiter: str
    table: str | None = Field(validation_alias="csv_table")
    filters: dict[str, Any]
    status: ExportStatus
    rows_done: int = Field(description="rows written so far (all of them once done)")
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    filename: str | None
    size_bytes: int | None
    sha256: str | None = Field(description="of the file's bytes")
    error: str | None = Field(description="why it failed")
    expires_at: datetime | None = Field(description="the file is deleted then")
    download_url: str | None = Field(
        default=None,
        description="once done: the file, without credentials, until `download_expires_at` "
        "(ask again for a fresh link)",
    )
    download_expires_at: datetime | None = None
    version: int
