"""Tenancy in one place: which regions, agencies and actions a principal may touch.

Every query on tenant data filters through `Scope.regions` (and `Scope.agencies` for
innovations); every write asks `Scope.require_*`. Foreign objects answer 404 exactly like
unknown ones, so ids cannot be probed; a visible object the role may not change answers 403.
"""

import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, true

from iid_api.kit.errors import Forbidden, NotFound
from iid_api.kit.principal import Principal, PrincipalDep, Role


class Scope:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    # --- reading -------------------------------------------------------------------------
    def regions(self, region_column: Any) -> ColumnElement[bool]:
        """A WHERE clause limiting `region_column` to what the principal may see."""
        if self.principal.is_national:
            return true()
        return region_column == self.principal.region_code  # type: ignore[no-any-return]

    def agencies(self, agency_column: Any) -> ColumnElement[bool]:
        """A WHERE clause limiting innovations to the principal's agency, if it has one."""
        if self.principal.agency_id is None:
            return true()
        return agency_column == self.principal.agency_id  # type: ignore[no-any-return]

    def can_see_region(self, region_code: str) -> bool:
        return self.principal.is_national or region_code == self.principal.region_code

    def require_visible_region(self, region_code: str, what: str = "region") -> None:
        if not self.can_see_region(region_code):
            raise NotFound(f"{what} {region_code} not found")

    def require_visible_innovation(self, region_code: str, agency_id: uuid.UUID, ref: str) -> None:
        visible = self.can_see_region(region_code) and (
            self.principal.agency_id is None or self.principal.agency_id == agency_id
        )
        if not visible:
            raise NotFound(f"innovation {ref} not found")

    # --- writing -------------------------------------------------------------------------
    def require_national_admin(self, action: str) -> None:
        if self.principal.role is not Role.NATIONAL_ADMIN:
            raise Forbidden(f"only a national admin may {action}")

    def require_region_admin(self, region_code: str, action: str) -> None:
        """Region-level writes (agencies, SPD answers, sending): the region's admin."""
        self.require_visible_region(region_code)
        if self.principal.role not in (Role.NATIONAL_ADMIN, Role.REGION_ADMIN):
            raise Forbidden(f"role {self.principal.role} may not {action}")

    def require_innovation_editor(self, region_code: str, agency_id: uuid.UUID, ref: str) -> None:
        """Innovation and SID writes: the region's admin or the owning agency's operator."""
        self.require_visible_innovation(region_code, agency_id, ref)
        allowed = (Role.NATIONAL_ADMIN, Role.REGION_ADMIN, Role.AGENCY_OPERATOR)
        if self.principal.role not in allowed:
            raise Forbidden(f"role {self.principal.role} may not edit innovations")


def get_scope(principal: PrincipalDep) -> Scope:
    return Scope(principal)


ScopeDep = Annotated[Scope, Depends(get_scope)]
