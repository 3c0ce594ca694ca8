"""Who is calling: the one `current_principal` dependency every endpoint takes.

Real authentication (tokens, API keys) is the access-control issue's work. Until then, outside
production, the caller is a development principal: a national admin, or whatever the
`X-Dev-Principal` header says (`region_admin:73.72`, `agency_operator:73.72:<agency id>`,
`verifier`, `viewer:73.72`), so that tenancy rules can already be exercised. In production every
call is refused until real authentication is configured.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Header, Request

from iid_api.kit.errors import Unauthorized


class Role(StrEnum):
    NATIONAL_ADMIN = "national_admin"
    VERIFIER = "verifier"
    REGION_ADMIN = "region_admin"
    AGENCY_OPERATOR = "agency_operator"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    region_code: str | None = None
    agency_id: uuid.UUID | None = None

    @property
    def is_national(self) -> bool:
        return self.region_code is None


DEVELOPMENT_ADMIN = Principal(subject="dev:national_admin", role=Role.NATIONAL_ADMIN)


def parse_dev_principal(value: str) -> Principal:
    role_name, _, rest = value.partition(":")
    region_code, _, agency = rest.partition(":")
    try:
        role = Role(role_name)
        agency_id = uuid.UUID(agency) if agency else None
    except ValueError as exc:
        raise Unauthorized(f"X-Dev-Principal {value!r} is not role[:region[:agency]]") from exc
    national = role in (Role.NATIONAL_ADMIN, Role.VERIFIER) or (role is Role.VIEWER and not rest)
    if not national and not region_code:
        raise Unauthorized(f"role {role} needs a region: {role}:<region code>")
    if role is Role.AGENCY_OPERATOR and agency_id is None:
        raise Unauthorized("agency_operator needs an agency: agency_operator:<region>:<agency id>")
    return Principal(
        subject=f"dev:{value}",
        role=role,
        region_code=None if national else region_code,
        agency_id=agency_id,
    )


async def current_principal(
    request: Request,
    x_dev_principal: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    if request.app.state.settings.is_production:
        raise Unauthorized("authentication is not configured on this server")
    if x_dev_principal:
        return parse_dev_principal(x_dev_principal)
    return DEVELOPMENT_ADMIN


PrincipalDep = Annotated[Principal, Depends(current_principal)]
