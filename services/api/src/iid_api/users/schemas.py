import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from iid_api.auth.schemas import NewPassword
from iid_api.kit.schemas import InputModel, OutputModel, RegionCode
from iid_store import vocab
from iid_store.vocab import RoleName as RoleName

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


def check_role_scope(role: str, region_code: str | None, agency_id: uuid.UUID | None) -> None:
    """The shape the database's role_scope CHECK enforces, said in words for a 422."""
    if role in vocab.NATIONAL_ROLES and region_code is not None:
        raise ValueError(f"a {role} is national: give no region_code")
    if role in ("region_admin", "agency_operator") and region_code is None:
        raise ValueError(f"a {role} needs a region_code")
    if (role == "agency_operator") != (agency_id is not None):
        raise ValueError("agency_id is given for (and only for) an agency_operator")


class RoleScope(InputModel):
    role: RoleName
    region_code: RegionCode | None = Field(default=None, description="none for national roles")
    agency_id: uuid.UUID | None = Field(default=None, description="agency operators only")

    @model_validator(mode="after")
    def _scope_fits_role(self) -> Self:
        check_role_scope(self.role, self.region_code, self.agency_id)
        return self


class UserCreate(RoleScope):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "operator@parepare.go.id",
                    "full_name": "Andi Makkasau",
                    "password": "sandi-yang-panjang-2026",
                    "role": "region_admin",
                    "region_code": "73.72",
                }
            ]
        }
    )

    email: Email = Field(examples=["operator@parepare.go.id"])
    full_name: str = Field(default="", max_length=200)
    password: NewPassword


class UserPatch(InputModel):
    """Fields to change. Changing role, region or agency sends all three (as they should be
    afterwards); a new password or deactivation ends the user's sign-ins."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"full_name": "Andi Makkasau, S.Kom.", "active": True}]}
    )

    full_name: str | None = Field(default=None, max_length=200)
    role: RoleName | None = None
    region_code: RegionCode | None = None
    agency_id: uuid.UUID | None = None
    active: bool | None = None
    password: NewPassword | None = None

    @model_validator(mode="after")
    def _scope_fits_role(self) -> Self:
        if self.role is not None:
            check_role_scope(self.role, self.region_code, self.agency_id)
        elif self.region_code is not None or self.agency_id is not None:
            raise ValueError("send role together with region_code and agency_id")
        return self


class UserOut(OutputModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: RoleName
    region_code: str | None
    agency_id: uuid.UUID | None
    active: bool
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    created_by: str
    created_at: datetime
