"""Edition documents: packaged data, and validation messages that name the place."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
import yaml

from iid_scoring import (
    URUSAN,
    AnswerError,
    EditionError,
    Measured,
    available_editions,
    edition_checksum,
    load_edition,
    parse_edition,
)

SPD_CODES = [
    *("1", "2a", "2b", "3", "4", "5a", "5b", "6", "7", "8"),
    *("9", "10a", "10b", "11a", "11b", "12", "13a", "13b", "14", "15"),
]
SID_CODES = [str(c) for c in range(16, 36)]


def document(code: str = "iid-2026") -> dict[str, Any]:
    text = resources.files("iid_scoring").joinpath("editions", f"{code}.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def test_packaged_editions() -> None:
    assert available_editions() == ["iid-2023", "iid-2026", "iid-2027-draft"]
    for code in available_editions():
        edition = load_edition(code)
        assert [i.code for i in edition.spd_indicators] == SPD_CODES
        assert [i.code for i in edition.sid_indicators] == SID_CODES
        assert (edition.max_spd, edition.max_sid_per_innovation) == (63, 111)
        assert (edition.max_count_score, edition.max_total) == (76, 250)
        assert edition.eligible_stage == "penerapan"
        assert edition.min_design_words == 300
        assert edition.rating_from_rounded_index and edition.rejected_count_in_n
        assert [b.code for b in edition.ratings] == [
            "sangat_inovatif",
            "inovatif",
            "kurang_inovatif",
            "tidak_dapat_dinilai",
        ]
        assert all(i.answer_kind == "choice" for i in edition.sid_indicators)
        assert json.loads(json.dumps(edition.to_catalog()))["code"] == code


def test_edition_settings() -> None:
    e23, e26 = load_edition("iid-2023"), load_edition("iid-2026")
    assert (e23.divisor_floor, e26.divisor_floor) == (10, 12)
    assert e23.basic_service_min is None
    assert e26.basic_service_min == 5
    assert set(e26.basic_service_urusan) == {
        c for c, u in URUSAN.items() if u.group == "wajib_pelayanan_dasar"
    }
    assert str(e23.implementation_window[0]) == "2021-01-01"
    assert str(e26.implementation_window[1]) == "2025-12-31"
    assert e26.indicator("5a").weight == pytest.approx(0.75)
    assert [i.code for i in e26.indicators if i.mandatory] == [
        "1",
        "3",
        "4",
        "5a",
        "5b",
        "6",
        "7",
        "8",
        "9",
        "10a",
        "10b",
        "11a",
        "11b",
        "16",
        "17",
        "32",
        "33",
        "35",
    ]
    assert not any(i.mandatory for i in e23.indicators)
    assert e26.indicator("35").evidence_kinds == ("video", "video_link")
    assert e26.indicator("3").numeric is not None
    assert e26.indicator("8").answer_kind == "choice"


def test_the_2027_draft_is_2026_with_divisor_floor_14() -> None:
    e26, draft = load_edition("iid-2026"), load_edition("iid-2027-draft")
    assert (draft.divisor_floor, draft.year, draft.provisional) == (14, 2027, True)
    assert draft.document["rules"] == {**e26.document["rules"], "divisor_floor": 14}
    for key in ("count_score", "maxima", "ratings", "variables", "indicators"):
        assert draft.document[key] == e26.document[key]


def test_unknown_edition() -> None:
    with pytest.raises(EditionError, match="unknown edition 'iid-1999'"):
        load_edition("iid-1999")


def test_checksum_is_canonical() -> None:
    doc = document()
    shuffled = dict(reversed(list(doc.items())))
    assert edition_checksum(doc) == edition_checksum(shuffled)
    assert len(edition_checksum(doc)) == 64
    assert edition_checksum(load_edition("iid-2026").document) == edition_checksum(doc)


def test_a_third_edition_is_one_document() -> None:
    doc = document()
    doc.update(code="iid-2027", year=2027)
    doc["rules"]["divisor_floor"] = 14
    doc["count_score"]["basic_service_gate"]["min"] = 6
    edition = parse_edition(json.loads(json.dumps(doc)))  # as the API would receive it
    assert (edition.code, edition.divisor_floor, edition.basic_service_min) == ("iid-2027", 14, 6)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


def _duplicate(doc: dict[str, Any]) -> None:
    doc["indicators"][5]["code"] = doc["indicators"][4]["code"]


def _weight_without_max(doc: dict[str, Any]) -> None:
    doc["indicators"][5]["weight"] = "1"


INVALID = [
    (_duplicate, r'indicators\[5\] \(code "4"\): duplicate code'),
    (
        _set("indicators/0/levels/1", _DELETE),
        r'indicators\[0\] \(code "1"\).levels: level 2 missing',
    ),
    (_weight_without_max, r"maxima.spd: stated 63 but weights give 63.75"),
    (
        _set("indicators/5/weight", "abc"),
        r'indicators\[5\] \(code "5a"\).weight: expected a decimal',
    ),
    (
        _set("indicators/25/weight", "4"),
        r"maxima.sid_per_innovation: stated 111 but weights give 117",
    ),
    (_set("maxima/total", "251"), "maxima.total: stated 251"),
    (
        _set("count_score/per_innovation", "0.40"),
        "maxima.count_score: stated 76 but weights give 80",
    ),
    (
        _set("indicators/3/variable", "inovasi"),
        r'indicators\[3\] \(code "3"\).variable: unknown variable',
    ),
    (_set("indicators/3/aspect", "sid"), r'indicators\[3\] \(code "3"\).aspect'),
    (_set("ratings/1/min", "40.00"), r'ratings\[2\] \(code "kurang_inovatif"\)|overlap'),
    (_set("ratings/1/min", "40.02"), r'ratings\[1\] \(code "inovatif"\): gap'),
    (_set("ratings/0/max", "99.99"), "ratings: the bands end at 99.99"),
    (_set("ratings/0/min", "65.015"), "0.01 grid"),
    (
        _set("indicators/3/numeric/intervals/1/min_inclusive", True),
        r'indicators\[3\] \(code "3"\).numeric.intervals\[1\]: overlap at -50.32',
    ),
    (
        _set("indicators/3/numeric/intervals/2/min_inclusive", False),
        r'indicators\[3\] \(code "3"\).numeric.intervals\[2\]: gap at 8.17',
    ),
    (_set("indicators/3/numeric/intervals/2/min", "9"), r"intervals\[2\]: does not start where"),
    (_set("indicators/3/numeric/intervals/0/level", 3), "do not follow direction"),
    (
        _set("count_score/basic_service_gate/urusan/2", "pupr"),
        r"count_score.basic_service_gate.urusan\[2\]: unknown urusan code 'pupr'",
    ),
    (_set("count_score/basic_service_gate/min", 7), "more than the 6 urusan"),
    (_set("rules/eligible_stage", "uji coba"), "rules.eligible_stage"),
    (_set("rules/divisor_floor", 0), "rules.divisor_floor: must be at least 1"),
    (
        _set("rules/rating_from_rounded_index", "yes"),
        "rules.rating_from_rounded_index: expected true",
    ),
    (_set("rules/implementation_window/end", "2023-12-31"), "rules.implementation_window: start"),
    (_set("rules/gate_uses_main_urusan", _DELETE), "rules.gate_uses_main_urusan: missing field"),
    (_set("title", _DELETE), "title: missing field"),
    (_set("indicators/7/mandatory", _DELETE), r'indicators\[7\] \(code "6"\).mandatory: missing'),
    (_set("indicators/7/evidence", ["pdf", "docx"]), r"evidence\[1\]: 'docx' is not one of"),
    (_set("indicators/9/answer_kind", "numeric"), r'\(code "8"\).numeric: required exactly when'),
    (_set("schema_version", 2), "schema_version: 2 unsupported"),
]


@pytest.mark.parametrize(("change", "message"), INVALID)
def test_invalid_documents_name_the_place(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = copy.deepcopy(document())
    change(doc)
    with pytest.raises(EditionError, match=message):
        parse_edition(doc)


def test_document_must_be_json_compatible() -> None:
    doc = document()
    doc["year"] = {1, 2}
    with pytest.raises(EditionError, match="document: not JSON-compatible"):
        parse_edition(doc)


def test_document_is_a_private_copy() -> None:
    doc = document()
    edition = parse_edition(doc)
    doc["code"] = "changed"
    assert edition.document["code"] == "iid-2026"


def test_resolve_level_errors() -> None:
    edition = load_edition("iid-2026")
    with pytest.raises(AnswerError, match="unknown indicator code '99'"):
        edition.resolve_level("99", 1)
    with pytest.raises(AnswerError, match=r"level 4 outside 0\.\.3"):
        edition.resolve_level("1", 4)
    with pytest.raises(AnswerError, match="this row takes a level"):
        edition.resolve_level("8", Measured(Decimal(1)))
    with pytest.raises(AnswerError, match=r"outside 0\.\.3"):
        edition.resolve_level("1", True)
