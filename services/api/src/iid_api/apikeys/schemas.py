import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from iid_api.kit.schemas import OutputModel
from iid_api.users.schemas import RoleName, RoleScope


class ApiKeyCreate(RoleScope):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "SIPD Kota Parepare", "role": "viewer", "region_code": "73.72"}]
        }
    )

    name: str = Field(min_length=3, max_length=200, examples=["SIPD Parepare sync"])
    expires_at: datetime | None = Field(default=None, description="none: until revoked")


class ApiKeyOut(OutputModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    role: RoleName
    region_code: str | None
    agency_id: uuid.UUID | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="the key itself, shown this once only: send it as `Authorization: Bearer "
        "<key>` or `X-API-Key: <key>`"
    )
