"""Golden cases worked by hand from methodology.md (2023 and 2026 rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from scoring_helpers import BASIC, E23, E26, innovation, innovations_with_total, region

from iid_scoring import InnovationInput, Measured, RegionInput, score_region


def test_worked_example_47_04() -> None:
    # SPD 40; 20 innovations averaging 70: SID = 1400/20 + 20 x 0.38 = 77.6; total 117.6
    card = score_region(E23, region(E23, 40, innovations_with_total(E23, 20, 1400)))
    assert card.spd_score == 40
    assert card.counted_innovations == 20
    assert card.divisor == 20
    assert card.count_score == D("7.6")
    assert card.sid_score == D("77.6")
    assert card.total_score == D("117.6")
    assert card.max_total_score == 250
    assert card.index == D("47.04")
    assert card.rating == "inovatif"
    assert card.to_dict()["index"] == "47.04"
    assert card.provisional is True


def test_worked_example_38_51() -> None:
    # 6 innovations averaging 90: 540/10 + 6 x 0.38 = 56.28; total 96.28; IID 38.512 -> 38.51
    card = score_region(E23, region(E23, 40, innovations_with_total(E23, 6, 540)))
    assert card.divisor == 10
    assert card.count_score == D("2.28")
    assert card.sid_score == D("56.28")
    assert card.total_score == D("96.28")
    assert card.index == D("38.51")
    assert card.rating == "inovatif"


def test_points_are_weight_times_level_and_zero_when_missing() -> None:
    card = score_region(E26, RegionInput(spd={"5a": 3, "12": 2, "1": 0}))
    rows = {i.code: i for i in card.indicators}
    assert rows["5a"].points == D("2.25")
    assert rows["12"].points == 4
    assert rows["1"].points == 0
    assert rows["3"].level == 0
    assert card.spd_score == D("6.25")


# With SPD 63 and 40 innovations (gate open): index = 25.2 + 6.08 + S/100 exactly.
BAND_CASES_23 = [
    (2872, "60.00", "inovatif"),
    (2873, "60.01", "sangat_inovatif"),
    (372, "35.00", "inovatif"),
    (371, "34.99", "kurang_inovatif"),
]
BAND_CASES_26 = [
    (3372, "65.00", "inovatif"),
    (3373, "65.01", "sangat_inovatif"),
    (872, "40.00", "kurang_inovatif"),
    (873, "40.01", "inovatif"),
]


@pytest.mark.parametrize(("total", "index", "rating"), BAND_CASES_23)
def test_band_edges_2023(total: int, index: str, rating: str) -> None:
    card = score_region(E23, region(E23, 63, innovations_with_total(E23, 40, total)))
    assert (str(card.index), card.rating) == (index, rating)


@pytest.mark.parametrize(("total", "index", "rating"), BAND_CASES_26)
def test_band_edges_2026(total: int, index: str, rating: str) -> None:
    innovations = innovations_with_total(E26, 40, total, urusan=BASIC)
    card = score_region(E26, region(E26, 63, innovations))
    assert (str(card.index), card.rating) == (index, rating)


def test_2026_lowest_bands() -> None:
    # Gate closed (one urusan), 40 innovations, one row at level 1: total 1/40 -> index 0.01
    card = score_region(E26, region(E26, 0, innovations_with_total(E26, 40, 1)))
    assert (str(card.index), card.rating) == ("0.01", "kurang_inovatif")
    empty = score_region(E26, RegionInput())
    assert (str(empty.index), empty.rating, empty.rating_label) == (
        "0.00",
        "tidak_dapat_dinilai",
        "Tidak Dapat Dinilai",
    )


def test_rating_read_from_rounded_index() -> None:
    # 200 innovations, 1 point in all: total 0.005 -> index 0.002 -> published 0.00 -> TDD
    card = score_region(E26, region(E26, 0, innovations_with_total(E26, 200, 1)))
    assert card.total_score == D("0.005")
    assert (str(card.index), card.rating) == ("0.00", "tidak_dapat_dinilai")


def test_2023_lowest_bands() -> None:
    # No input can give 0.01 in 2023 (one innovation already adds 0.38); check the bands.
    assert E23.rating_for(D("0.01")).code == "kurang_inovatif"
    assert E23.rating_for(D("0.00")).code == "tidak_dapat_dinilai"
    assert score_region(E23, RegionInput()).rating == "tidak_dapat_dinilai"


@pytest.mark.parametrize(
    ("edition", "n", "divisor", "count"),
    [
        (E23, 0, 10, "0"),
        (E23, 9, 10, "3.42"),
        (E23, 10, 10, "3.80"),
        (E23, 11, 11, "4.18"),
        (E23, 12, 12, "4.56"),
        (E23, 200, 200, "76"),
        (E23, 201, 201, "76"),
        (E26, 0, 12, "0"),
        (E26, 9, 12, "3.42"),
        (E26, 11, 12, "4.18"),
        (E26, 12, 12, "4.56"),
        (E26, 200, 200, "76"),
        (E26, 201, 201, "76"),
    ],
)
def test_divisor_and_count_score(edition: object, n: int, divisor: int, count: str) -> None:
    assert edition in (E23, E26)
    ed = E23 if edition is E23 else E26
    card = score_region(ed, region(ed, 0, innovations_with_total(ed, n, 50 * n, urusan=BASIC)))
    assert card.counted_innovations == n
    assert card.divisor == divisor
    assert card.count_score == D(count)
    assert card.sid_score == D(50 * n) / divisor + D(count)


def test_all_innovations_rejected_stay_in_n() -> None:
    innovations = [replace(i, rejected=True) for i in innovations_with_total(E23, 15, 1500)]
    card = score_region(E23, region(E23, 0, innovations))
    assert card.counted_innovations == 15
    assert card.divisor == 15
    assert card.sid_score == D("5.7")  # 0 points / 15 + 15 x 0.38
    assert {i.status for i in card.innovations} == {"rejected"}
    assert all(i.points == 0 for i in card.innovations)


def test_rejected_innovation_counts_in_divisor_with_zero_points() -> None:
    innovations = innovations_with_total(E23, 12, 1200)
    innovations[0] = replace(innovations[0], rejected=True)
    card = score_region(E23, region(E23, 0, innovations))
    assert card.divisor == 12
    assert card.sid_score == D(1200 - 111) / 12 + D("4.56")  # the first one had 111


def test_exclusions_by_stage_and_window() -> None:
    inside = date(2021, 1, 1)
    cases = [
        innovation(E23, "ok", 111, implemented_on=inside),
        innovation(E23, "last-day", 111, implemented_on=date(2022, 12, 31)),
        innovation(E23, "trial", 111, stage="uji_coba"),
        innovation(E23, "idea", 111, stage="inisiatif"),
        innovation(E23, "old", 111, implemented_on=date(2020, 12, 31)),
        innovation(E23, "too-new", 111, implemented_on=date(2023, 1, 1)),
        innovation(
            E23,
            "old-but-developed",
            111,
            implemented_on=date(2019, 5, 1),
            developed_on=date(2022, 2, 1),
        ),
        InnovationInput(id="no-date", stage="penerapan", answers={"16": 3}),
    ]
    card = score_region(E23, RegionInput(innovations=cases))
    status = {i.id: (i.status, i.reason) for i in card.innovations}
    assert status == {
        "ok": ("counted", None),
        "last-day": ("counted", None),
        "trial": ("excluded", "stage"),
        "idea": ("excluded", "stage"),
        "old": ("excluded", "window"),
        "too-new": ("excluded", "window"),
        "old-but-developed": ("counted", None),
        "no-date": ("excluded", "window"),
    }
    assert card.counted_innovations == 3
    assert card.sid_score == D(333) / 10 + D("1.14")


@pytest.mark.parametrize(("covered", "count"), [(4, "0"), (5, "7.60"), (6, "7.60")])
def test_2026_urusan_gate(covered: int, count: str) -> None:
    innovations = innovations_with_total(E26, 20, 1400, urusan=BASIC[:covered])
    card = score_region(E26, region(E26, 40, innovations))
    assert card.count_score == D(count)
    assert len(card.basic_service_covered) == covered
    assert card.sid_score == D(70) + D(count)


def test_gate_uses_main_urusan_only_and_ignores_rejected() -> None:
    innovations = innovations_with_total(E26, 12, 0, urusan=BASIC[:4])
    # sosial only as a secondary urusan, pendidikan... of a rejected innovation: gate stays shut
    innovations.append(innovation(E26, "x1", 0, urusan=("perhubungan", "sosial")))
    innovations.append(innovation(E26, "x2", 0, urusan=("trantibum_linmas",), rejected=True))
    card = score_region(E26, RegionInput(innovations=innovations))
    assert card.count_score == 0
    assert card.counted_innovations == 14
    innovations.append(innovation(E26, "x3", 0, urusan=("sosial",)))
    assert score_region(E26, RegionInput(innovations=innovations)).count_score == D("5.70")


def test_2023_has_no_gate() -> None:
    card = score_region(E23, region(E23, 0, innovations_with_total(E23, 10, 0, urusan=("pangan",))))
    assert card.count_score == D("3.8")


@pytest.mark.parametrize(
    ("code", "value", "level"),
    [
        ("3", "-50.32", 1),
        ("3", "-50.31", 2),
        ("3", "-50.33", 1),
        ("3", "8.16", 2),
        ("3", "8.17", 3),
        ("4", "2.04", 1),
        ("4", "2.05", 2),
        ("4", "5.22", 2),
        ("4", "5.23", 3),
        ("5a", "0.00", 1),
        ("5a", "0.01", 2),
        ("5a", "0.35", 2),
        ("5a", "0.36", 3),
        ("5b", "5.92", 1),
        ("5b", "5.91", 1),
        ("5b", "5.90", 2),
        ("5b", "2.36", 2),
        ("5b", "2.35", 3),
        ("5b", "2.34", 3),
        ("6", "-47.42", 1),
        ("6", "-47.41", 2),
        ("6", "94.76", 3),
        ("10b", "13.10", 1),
        ("10b", "13.09", 2),
        ("10b", "4.82", 3),
        ("11a", "0.90", 3),
        ("11a", "0.89", 2),
        ("11a", "0.55", 1),
        ("11b", "69.99", 1),
        ("11b", "70.00", 2),
        ("11b", "80.00", 3),
        ("2a", "0", 0),
        ("2a", "1", 1),
        ("2a", "2", 2),
        ("2a", "3", 3),
        ("2b", "1", 0),
        ("2b", "2", 1),
        ("2b", "4", 3),
        ("2b", "5", 3),
        ("13a", "0", 0),
        ("13a", "3", 1),
        ("13a", "4", 2),
        ("13a", "7", 2),
        ("13a", "8", 3),
    ],
)
def test_numeric_cut_point_edges(code: str, value: str, level: int) -> None:
    assert E26.resolve_level(code, Measured(D(value))) == level
    card = score_region(E26, RegionInput(spd={code: Measured(D(value))}))
    row = next(i for i in card.indicators if i.code == code)
    assert row.level == level
    assert row.points == E26.indicator(code).weight * level


def test_numeric_row_also_takes_a_level() -> None:
    assert E26.resolve_level("3", 2) == 2


def test_every_scorecard_carries_the_edition_flag() -> None:
    assert score_region(E23, RegionInput()).provisional is True
    assert score_region(E26, RegionInput()).provisional is False
    assert E23.provisional_parts[0] == "spd"
    assert all(i.provisional for i in E23.spd_indicators)


def test_variables_add_up_to_the_total() -> None:
    card = score_region(E26, region(E26, 40, innovations_with_total(E26, 20, 1400, urusan=BASIC)))
    assert sum(v.points for v in card.variables) == card.total_score
    assert sum(v.max_points for v in card.variables) == 250
    assert sum(i.points for i in card.indicators) + card.count_score == card.total_score
