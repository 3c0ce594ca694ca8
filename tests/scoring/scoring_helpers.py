"""Builders for scoring tests: inputs with exactly the SPD and SID points a case needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from iid_scoring import Edition, InnovationInput, RegionInput, load_edition

E23 = load_edition("iid-2023")
E26 = load_edition("iid-2026")
BASIC = (
    "pendidikan",
    "kesehatan",
    "pekerjaan_umum_penataan_ruang",
    "perumahan_kawasan_permukiman",
    "trantibum_linmas",
    "sosial",
)


def in_window(edition: Edition) -> date:
    return edition.implementation_window[0].replace(month=6, day=1)


def levels_for_points(edition: Edition, points: int, aspect: str = "sid") -> dict[str, int]:
    """Levels whose points add up to exactly `points` (integer-weight rows first, largest first)."""
    rows = sorted(
        (i for i in edition.indicators if i.aspect == aspect),
        key=lambda i: (i.weight != i.weight.to_integral_value(), -i.weight),
    )
    remaining = Decimal(points)
    levels = {}
    for row in rows:
        level = min(3, int(remaining // row.weight))
        if level:
            levels[row.code] = level
            remaining -= row.weight * level
    assert remaining == 0, f"cannot reach {points}"
    return levels


def spd_levels(edition: Edition, points: Decimal | int) -> dict[str, int]:
    """SPD answers worth exactly `points` (found by a small search over reachable sums)."""
    reachable: dict[Decimal, dict[str, int]] = {Decimal(0): {}}
    for row in edition.spd_indicators:
        step = dict(reachable)
        for total, levels in reachable.items():
            for level in (1, 2, 3):
                step.setdefault(total + row.weight * level, {**levels, row.code: level})
        reachable = step
    return reachable[Decimal(points)]


def innovation(
    edition: Edition,
    ident: str,
    points: int,
    *,
    urusan: Sequence[str] = ("kesehatan",),
    stage: str = "penerapan",
    rejected: bool = False,
    implemented_on: date | None = None,
    developed_on: date | None = None,
) -> InnovationInput:
    return InnovationInput(
        id=ident,
        stage=stage,
        rejected=rejected,
        urusan=tuple(urusan),
        implemented_on=implemented_on if implemented_on or developed_on else in_window(edition),
        developed_on=developed_on,
        answers=levels_for_points(edition, points),
    )


def innovations_with_total(
    edition: Edition, n: int, total: int, urusan: Sequence[str] = ("kesehatan",)
) -> list[InnovationInput]:
    """n eligible innovations whose SID points add up to `total` (earlier ones filled first);
    main urusan cycle through `urusan`."""
    result = []
    remaining = total
    for k in range(n):
        points = min(111, remaining)
        remaining -= points
        result.append(innovation(edition, f"i{k:03d}", points, urusan=(urusan[k % len(urusan)],)))
    assert remaining == 0
    return result


def region(
    edition: Edition, spd: Decimal | int = 0, innovations: Sequence[InnovationInput] = ()
) -> RegionInput:
    return RegionInput(spd=spd_levels(edition, spd), innovations=tuple(innovations), region="99.01")
