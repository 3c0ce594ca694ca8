"""Fixed vocabularies of the data model (stored as text + CHECK, never as ENUM types).

Values are lower snake case; the Indonesian labels live with the API schemas. Sources:
methodology.md section 4 and the innovation attributes of the 2023 and 2026 catalogs.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal

# The years a period (and an imported result) may have: the CHECK of their `year` columns.
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100

PERIOD_STATUSES: Final = ("draft", "open", "closed", "verifying", "published")
# Allowed moves of a period's status. Re-opening a closed period is allowed for deadline
# extensions (2023's intake was extended); nothing leaves `published`.
PERIOD_TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("open", "verifying"),
    "verifying": ("published",),
    "published": (),
}

REGION_KINDS: Final = ("provinsi", "kabupaten", "kota")
CLUSTERS: Final = ("provinsi", "kabupaten", "kota", "tertinggal", "perbatasan", "papua")
# Clusters that follow from the region's kind; the others are set by national admins.
KIND_CLUSTERS: Final = ("provinsi", "kabupaten", "kota")

AGENCY_KINDS: Final = ("opd", "uptd", "puskesmas", "sekolah", "kecamatan", "desa", "lainnya")

STAGES: Final = ("inisiatif", "uji_coba", "penerapan")
INITIATORS: Final = ("kepala_daerah", "anggota_dprd", "perangkat_daerah", "asn", "masyarakat")
INNOVATION_KINDS: Final = ("digital", "non_digital")
INNOVATION_FORMS: Final = ("tata_kelola_pemerintahan", "pelayanan_publik", "inovasi_daerah_lainnya")
THEMES: Final = (
    "digitalisasi_layanan",
    "penanggulangan_kemiskinan",
    "kemudahan_investasi",
    "prioritas_aktual_presiden",
    "non_tematik",
)
CLASSIFICATIONS: Final = ("perangkat_daerah", "desa", "masyarakat")
INNOVATION_STATUSES: Final = ("draft", "sent")
# The region's own review of an innovation before it is sent (iid_store.review has the rules).
REVIEW_STATES: Final = ("draft", "submitted", "returned", "approved")
REVIEW_ACTIONS: Final = ("submit", "withdraw", "return", "approve")
# What a user's inbox tells them about (iid_store.inbox).
INBOX_KINDS: Final = (
    "submitted",
    "withdrawn",
    "returned",
    "approved",
    "note",
    "decided",
    "deadline",
)
# Who an inbox item is for: a region's admins, or an agency's operators.
INBOX_AUDIENCES: Final = ("region_admin", "agency_operator")

DECISIONS: Final = ("accept", "lower", "reject")
EVIDENCE_KINDS: Final = ("pdf", "image", "video", "video_link")


class Role(StrEnum):
    """Access control, the one list of roles: who a user or API key acts as (the CHECK
    constraints, the API's schemas and its principal all read it). ANONYMOUS is the public
    without credentials, which is never stored."""

    NATIONAL_ADMIN = "national_admin"
    VERIFIER = "verifier"
    REGION_ADMIN = "region_admin"
    AGENCY_OPERATOR = "agency_operator"
    VIEWER = "viewer"
    ANONYMOUS = "anonymous"


ROLES: Final = tuple(role.value for role in Role if role is not Role.ANONYMOUS)
# Roles that are never tied to a region (a viewer may be either).
NATIONAL_ROLES: Final = (Role.NATIONAL_ADMIN.value, Role.VERIFIER.value)
if TYPE_CHECKING:  # a Literal built from a tuple is beyond a type checker: a string to it
    RoleName = str
else:  # the stored roles as a Literal: what request and response schemas validate against
    RoleName = Literal[ROLES]

# Ratings (predikat) and the scales published results were given on: 0-100 from 2021 on, a
# raw sum of scores before (methodology.md section 3).
RATINGS: Final = ("sangat_inovatif", "inovatif", "kurang_inovatif", "tidak_dapat_dinilai")
SCALES: Final = ("index_0_100", "raw_sum")

# Spreadsheet exports (iid_api.exports): what can be exported, in which formats, and the
# states of one made by the worker (POST /v1/exports).
EXPORT_KINDS: Final = (
    "rankings",
    "scorecard",
    "completeness",
    "verification",
    "innovations",
    "audit",
)
EXPORT_FORMATS: Final = ("csv", "xlsx")
EXPORT_STATUSES: Final = ("queued", "running", "done", "failed", "expired")

# Webhooks (iid_worker.webhooks): the events a subscription may ask for, derived from the
# change log, and the states of one delivery. Region events carry the region they happened in;
# national events (rankings, periods) only national subscriptions receive.
REGION_EVENTS: Final = ("scorecard.changed", "innovation.sent", "verification.decided")
NATIONAL_EVENTS: Final = ("ranking.changed", "period.status_changed")
WEBHOOK_EVENTS: Final = (*REGION_EVENTS, *NATIONAL_EVENTS, "export.ready")
DELIVERY_STATUSES: Final = ("pending", "delivered", "failed")
