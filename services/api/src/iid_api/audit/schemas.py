from datetime import datetime
from typing import Any

from iid_api.kit.schemas import OutputModel


class AuditOut(OutputModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    region_code: str | None
    period_year: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
