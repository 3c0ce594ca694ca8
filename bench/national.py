"""Deterministic synthetic national data set for the IID scoring benchmark.

Shape from methodology.md section 6 (2025): 546 regions, 36,742 innovations, 6 to 134 per
region, stages about 91% penerapan / 4% uji coba / 5% inisiatif, 20 SID answers each.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from iid_scoring import URUSAN, Edition, InnovationInput, Measured, RegionInput

REGIONS = 546
INNOVATIONS = 36_742
PER_REGION = (6, 134)
_BASIC = [c for c, u in URUSAN.items() if u.group == "wajib_pelayanan_dasar"]
_OTHER = [c for c, u in URUSAN.items() if u.group != "wajib_pelayanan_dasar"]


def innovation_counts(rng: random.Random, regions: int, total: int) -> list[int]:
    """Uneven counts within PER_REGION that add up to exactly `total`."""
    low, high = PER_REGION
    counts = [round(rng.triangular(low, high, 45)) for _ in range(regions)]
    while (gap := total - sum(counts)) != 0:
        k = rng.randrange(regions)
        step = 1 if gap > 0 else -1
        if low <= counts[k] + step <= high:
            counts[k] += step
    return counts


def national_set(
    edition: Edition, regions: int = REGIONS, innovations: int = INNOVATIONS, seed: int = 2025
) -> list[RegionInput]:
    rng = random.Random(seed)
    return [
        _region(rng, edition, f"{k // 20 + 11:02d}.{k % 20 + 1:02d}", count)
        for k, count in enumerate(innovation_counts(rng, regions, innovations))
    ]


def _region(rng: random.Random, edition: Edition, code: str, count: int) -> RegionInput:
    spd: dict[str, int | Measured] = {}
    for row in edition.spd_indicators:
        if row.numeric is not None and rng.random() < 0.5:
            spd[row.code] = Measured(Decimal(rng.randrange(-5000, 10000)) / 100)
        else:
            spd[row.code] = rng.choice((0, 1, 2, 2, 3, 3))
    items = [_innovation(rng, edition, f"{code}-{j:03d}") for j in range(count)]
    return RegionInput(spd=spd, innovations=items, region=code)


def _innovation(rng: random.Random, edition: Edition, ident: str) -> InnovationInput:
    roll = rng.random()
    stage = "penerapan" if roll < 0.91 else "uji_coba" if roll < 0.95 else "inisiatif"
    start, end = edition.implementation_window
    implemented = start + timedelta(days=rng.randrange((end - start).days + 1))
    developed = None
    if rng.random() < 0.06:  # older innovation, let in by a recent development
        developed, implemented = implemented, date(start.year - 3, 6, 1)
    main = rng.choice(_BASIC) if rng.random() < 0.4 else rng.choice(_OTHER)
    return InnovationInput(
        id=ident,
        stage=stage,
        rejected=rng.random() < 0.02,
        urusan=(main, rng.choice(_OTHER)) if rng.random() < 0.3 else (main,),
        implemented_on=implemented,
        developed_on=developed,
        answers={row.code: rng.choice((0, 1, 1, 2, 2, 3, 3, 3)) for row in edition.sid_indicators},
    )
