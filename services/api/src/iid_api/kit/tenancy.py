"""Tenancy in one place: which regions, agencies, periods and actions a principal may touch.

Every query on tenant data filters through `Scope.regions` (and `Scope.agencies` for
innovations); every write asks `Scope.require_*`. Foreign objects answer 404 exactly like
unknown ones, so ids cannot be probed; a visible object the role may not change answers 403.
The public (anonymous principal) sees no tenant data, only published periods.
"""

import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, false, true

from iid_api.kit.errors import Forbidden, NotFound, Unauthorized
from iid_api.kit.principal import (
    CHALLENGE,
    Principal,
    PrincipalDep,
    PublicPrincipalDep,
    Role,
)

# Roles that administer a region's people and keys (and read its audit trail).
ADMIN_ROLES = (Role.NATIONAL_ADMIN, Role.REGION_ADMIN)
# Roles a region admin may hand out, in its own region only.
REGION_GRANTABLE = (Role.REGION_ADMIN, Role.AGENCY_OPERATOR, Role.VIEWER)
PUBLISHED = "published"
# Roles that enter innovations and their SID answers (within their region and agency).
INNOVATION_EDITORS = (Role.NATIONAL_ADMIN, Role.REGION_ADMIN, Role.AGENCY_OPERATOR)


class Scope:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    # --- reading -------------------------------------------------------------------------
    def regions(self, region_column: Any) -> ColumnElement[bool]:
        """A WHERE clause limiting `region_column` to what the principal may see."""
        if self.principal.is_anonymous:
            return false()
        if self.principal.is_national:
            return true()
        return region_column == self.principal.region_code  # type: ignore[no-any-return]

    def agencies(self, agency_column: Any) -> ColumnElement[bool]:
        """A WHERE clause limiting innovations to the principal's agency, if it has one."""
        if self.principal.agency_id is None:
            return true()
        return agency_column == self.principal.agency_id  # type: ignore[no-any-return]

    def periods(self, status_column: Any) -> ColumnElement[bool]:
        """A WHERE clause on periods: the public sees published ones only."""
        if self.principal.is_anonymous:
            return status_column == PUBLISHED  # type: ignore[no-any-return]
        return true()

    def inbox(self, audience: Any, region: Any, agency: Any) -> ColumnElement[bool]:
        """A WHERE clause on inbox items: those addressed to the principal's role in its
        region (a region's admins) or agency (its operators); other roles receive none."""
        principal = self.principal
        if principal.role is Role.REGION_ADMIN:
            return and_(audience == "region_admin", region == principal.region_code)
        if principal.role is Role.AGENCY_OPERATOR:
            return and_(audience == "agency_operator", agency == principal.agency_id)
        return false()

    def can_see_region(self, region_code: str) -> bool:
        if self.principal.is_anonymous:
            return False
        return self.principal.is_national or region_code == self.principal.region_code

    def can_see_period(self, status: str) -> bool:
        return not self.principal.is_anonymous or status == PUBLISHED

    def require_visible_region(self, region_code: str, what: str = "region") -> None:
        if self.principal.is_anonymous:
            # the public is told to sign in (which reveals nothing about the region)
            raise Unauthorized("credentials required for this region's data", headers=CHALLENGE)
        if not self.can_see_region(region_code):
            raise NotFound(f"{what} {region_code} not found")

    def require_visible_period(self, year: int, status: str) -> None:
        if not self.can_see_period(status):
            raise NotFound(f"period {year} not found")

    def require_visible_innovation(self, region_code: str, agency_id: uuid.UUID, ref: str) -> None:
        visible = self.can_see_region(region_code) and (
            self.principal.agency_id is None or self.principal.agency_id == agency_id
        )
        if not visible:
            raise NotFound(f"innovation {ref} not found")

    def require_visible_results(self, region_code: str, status: str, *, verified: bool) -> None:
        """A published period's verified results are public; anything else (claims, periods
        still running) is tenant data."""
        if not (verified and status == PUBLISHED):
            self.require_visible_region(region_code)

    def require_visible_national_results(self, status: str, *, verified: bool) -> None:
        """Rankings and summaries: a published period's verified ones are public; anything
        else needs a signed-in caller (all of them see the national picture)."""
        if self.principal.is_anonymous and not (verified and status == PUBLISHED):
            raise Unauthorized("credentials required for these results", headers=CHALLENGE)

    def require_national(self, what: str) -> None:
        """National roles only (national admins, verifiers, national viewers): `what` spans
        every region's verification, which no region may see before publication."""
        if self.principal.is_anonymous:
            raise Unauthorized(f"credentials required for {what}", headers=CHALLENGE)
        if not self.principal.is_national:
            raise Forbidden(f"only national roles may read {what}")

    # --- writing -------------------------------------------------------------------------
    def require_national_admin(self, action: str) -> None:
        if self.principal.role is not Role.NATIONAL_ADMIN:
            raise Forbidden(f"only a national admin may {action}")

    def require_region_admin(self, region_code: str, action: str) -> None:
        """Region-level writes (agencies, SPD answers, sending): the region's admin."""
        self.require_visible_region(region_code)
        self.require_admin(action)

    def require_innovation_editor(self, region_code: str, agency_id: uuid.UUID, ref: str) -> None:
        """Innovation and SID writes: the region's admin or the owning agency's operator."""
        self.require_visible_innovation(region_code, agency_id, ref)
        self.require_innovation_editor_role()

    def require_innovation_editor_role(self) -> None:
        if self.principal.role not in INNOVATION_EDITORS:
            raise Forbidden(f"role {self.principal.role} may not edit innovations")

    @property
    def reviews_innovations(self) -> bool:
        """The region's admins (and national admins) review the agencies' innovations before
        they are sent (iid_store.review): an entry under review is frozen for everyone else."""
        return self.principal.role in ADMIN_ROLES

    # --- verification --------------------------------------------------------------------
    def require_verifier(self, region_code: str, action: str) -> None:
        """Verification decisions: verifiers (and national admins), never the region itself."""
        self.require_visible_region(region_code)
        if self.principal.role not in (Role.NATIONAL_ADMIN, Role.VERIFIER):
            raise Forbidden(f"only a verifier may {action}")

    def require_verification_reader(self, region_code: str) -> None:
        """Verification results: everyone who sees the region except agency operators,
        whose view is limited to their agency's innovations."""
        self.require_visible_region(region_code)
        self.require_verification_list()

    def require_verification_list(self) -> None:
        """Verification progress across regions (filtered through `regions`): everyone but
        agency operators."""
        if self.principal.role is Role.AGENCY_OPERATOR:
            raise Forbidden("agency operators may not read a region's verification results")

    # --- people, keys, audit ---------------------------------------------------------------
    def require_admin(self, action: str) -> None:
        """National admins, and region admins within their region (the query filters)."""
        if self.principal.role not in ADMIN_ROLES:
            raise Forbidden(f"role {self.principal.role} may not {action}")

    def require_account_admin(self, region_code: str | None, what: str) -> None:
        """Manage an existing user or key (`what`, e.g. "user <id>") of `region_code`
        (None: a national account, which only national principals can even see)."""
        if region_code is None:
            visible = self.principal.is_national
        else:
            visible = self.can_see_region(region_code)
        if not visible:
            raise NotFound(f"{what} not found")
        if region_code is None:
            self.require_national_admin(f"manage {what}")
        else:
            self.require_admin(f"manage {what}")

    def require_grant(self, role: Role, region_code: str | None) -> None:
        """Hand out `role` in `region_code`: a region admin only region roles in its region."""
        if self.principal.role is Role.NATIONAL_ADMIN:
            return
        if region_code is not None:
            self.require_visible_region(region_code)
        if self.principal.role is not Role.REGION_ADMIN:
            raise Forbidden(f"role {self.principal.role} may not manage accounts")
        if role not in REGION_GRANTABLE or region_code is None:
            raise Forbidden(f"a region admin may not grant the {role} role outside its region")

    def require_user(self, action: str) -> uuid.UUID:
        """The signed-in user's id; API keys have no password or profile."""
        if self.principal.user_id is None:
            raise Forbidden(f"only a signed-in user may {action}; API keys cannot")
        return self.principal.user_id


async def get_scope(principal: PrincipalDep) -> Scope:
    return Scope(principal)


async def get_public_scope(principal: PublicPrincipalDep) -> Scope:
    return Scope(principal)


ScopeDep = Annotated[Scope, Depends(get_scope)]
# For endpoints that also serve the public (published periods): check `scope.principal`.
PublicScopeDep = Annotated[Scope, Depends(get_public_scope)]
