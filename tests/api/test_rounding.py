"""Every derived figure is rounded half-up to the places its field documents (DESIGN.md):
Python's `round` and `Decimal.quantize` would round the halves below to even."""

from decimal import Decimal
from fractions import Fraction

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.completeness.figures import Tally
from iid_api.kit.figures import half_up, mean_half_up, percent_half_up
from iid_scoring import RegionInput, load_edition, score_region
from iid_store.db import models
from tests.api.support import YEAR, create_period, ok


def test_halves_round_up_exactly() -> None:
    assert half_up(Fraction(1, 200)) == Decimal("0.01")  # round(0.005, 2) == 0.01 by luck only
    assert half_up(Decimal("2.675")) == Decimal("2.68")  # round(2.675, 2) == 2.67
    assert half_up(Decimal("0.125")) == Decimal("0.13")  # half-even: 0.12
    assert half_up(Fraction(-1, 200)) == Decimal("-0.01")
    assert str(half_up(Fraction(-1, 1000))) == "0.00"  # no negative zero
    assert half_up(Fraction(2, 3), 4) == Decimal("0.6667")
    assert mean_half_up(Decimal("20.01"), 2) == Decimal("10.01")  # 10.005
    assert mean_half_up(Decimal("0"), 0) is None
    assert percent_half_up(1, 800) == Decimal("0.13")  # 0.125 %
    assert percent_half_up(1, 3) == Decimal("33.33")
    assert percent_half_up(0, 0) is None


def test_completeness_percentages_round_half_up() -> None:
    figures = Tally(indicators=800, answered=1, evidenced=799).figures()
    assert (figures.answered_percent, figures.evidenced_percent) == (
        Decimal("0.13"),  # 0.125
        Decimal("99.88"),  # 99.875
    )


async def test_the_summary_mean_rounds_half_up(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client, open_it=False)  # no worker involved: two stored scorecards
    payload = score_region(load_edition("iid-2026"), RegionInput()).to_dict(levels=False)
    for region, index in (("73.71", "10.00"), ("73.72", "10.01")):
        db.add(
            models.Scorecard(
                period_year=YEAR,
                region_code=region,
                basis="claimed",
                edition_code="iid-2026",
                index=Decimal(index),
                rating="kurang_inovatif",
                total_score=Decimal(index) * Decimal("2.5"),
                undecided_answers=0,
                payload=payload,
                inputs_hash="0" * 64,
                generation=0,
            )
        )
    await db.commit()
    summary = ok(await client.get(f"/v1/periods/{YEAR}/summary?basis=claimed"))
    assert (summary["regions_scored"], summary["mean_index"]) == (2, "10.01")  # 10.005
    assert summary["ratings"] == {"kurang_inovatif": 2}
