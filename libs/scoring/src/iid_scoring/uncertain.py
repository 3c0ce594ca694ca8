"""A region part-way through verification: what is decided (facts) and what is pending.

Pure data, no numpy: the store builds it (iid_store.uncertainty), the simulation draws from it
(iid_scoring.simulation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from iid_scoring.inputs import InnovationInput, RegionInput

REJECTED, KEPT, UNDECIDED = "rejected", "kept", "undecided"


@dataclass(frozen=True)
class UncertainInnovation:
    """A sent innovation: `decided` holds verified levels (facts), `pending` the claimed level
    of each undecided answer; `rejection` is rejected, kept or undecided."""

    id: str
    stage: str
    urusan: tuple[str, ...] = ()
    implemented_on: date | None = None
    developed_on: date | None = None
    decided: Mapping[str, int] | None = None
    pending: Mapping[str, int] | None = None
    rejection: str = UNDECIDED

    def as_input(self, answers: Mapping[str, int], rejected: bool) -> InnovationInput:
        return InnovationInput(
            id=self.id,
            stage=self.stage,
            rejected=rejected,
            urusan=self.urusan,
            implemented_on=self.implemented_on,
            developed_on=self.developed_on,
            answers=answers,
        )


@dataclass(frozen=True)
class UncertainRegion:
    region: str
    spd_decided: Mapping[str, int]
    spd_pending: Mapping[str, int]
    innovations: tuple[UncertainInnovation, ...] = ()

    @property
    def undecided_answers(self) -> int:
        return len(self.spd_pending) + sum(len(i.pending or {}) for i in self.innovations)

    def bound(self, *, upper: bool) -> RegionInput:
        """The lowest outcome (every undecided answer 0, every undecided innovation rejected)
        or the highest (every undecided answer at its claim, none rejected). With the
        rejected innovations kept in n (`rules.rejected_count_in_n`), every draw lies between."""
        spd = {**self.spd_decided, **pending_levels(self.spd_pending, claimed=upper)}
        innovations = tuple(
            i.as_input(
                {**(i.decided or {}), **pending_levels(i.pending or {}, claimed=upper)},
                i.rejection == REJECTED or (i.rejection == UNDECIDED and not upper),
            )
            for i in self.innovations
        )
        return RegionInput(spd=spd, innovations=innovations, region=self.region)


def pending_levels(pending: Mapping[str, int], *, claimed: bool) -> dict[str, int]:
    """Every pending answer at its claim, or at 0."""
    return {code: level if claimed else 0 for code, level in pending.items()}
