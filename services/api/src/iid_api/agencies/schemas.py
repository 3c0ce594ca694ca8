import uuid
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from iid_api.kit.schemas import InputModel, OutputModel

AgencyKind = Literal["opd", "uptd", "puskesmas", "sekolah", "kecamatan", "desa", "lainnya"]


class AgencyCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Dinas Kesehatan Kota Parepare", "kind": "opd"}]}
    )

    name: str = Field(min_length=2, max_length=200, examples=["Dinas Kesehatan"])
    kind: AgencyKind = "opd"


class AgencyPatch(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Dinas Kesehatan dan Keluarga Berencana"}]}
    )

    name: str | None = Field(default=None, min_length=2, max_length=200)
    kind: AgencyKind | None = None


class AgencyOut(OutputModel):
    id: uuid.UUID
    region_code: str
    name: str
    kind: AgencyKind
    created_at: datetime
