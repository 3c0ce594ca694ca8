"""What a region reports: SPD answers and its innovations with their SID answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from iid_scoring._records import record


@dataclass(frozen=True, slots=True)
class Measured:
    """A numeric answer (e.g. 8.17 % licence growth), mapped to a level by the row's cut-points."""

    value: Decimal


Answer = int | Measured


@record
class InnovationInput:
    """One innovation as sent. `urusan[0]` is the main urusan; `developed_on` is the latest
    development date, which lets an innovation implemented before the window in."""

    id: str
    stage: str
    rejected: bool = False
    urusan: tuple[str, ...] = ()
    implemented_on: date | None = None
    developed_on: date | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegionInput:
    """A region's answers for one period. Every listed innovation counts as sent."""

    spd: Mapping[str, Answer] = field(default_factory=dict)
    innovations: Sequence[InnovationInput] = ()
    region: str | None = None
