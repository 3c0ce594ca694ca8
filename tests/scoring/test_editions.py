"""Edition documents: packaged data, and validation messages that name the place."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from iid_scoring import (
    URUSAN,
    AnswerError,
    EditionError,
    InnovationInput,
    Measured,
    RegionInput,
    available_editions,
    edition_checksum,
    edition_json_schema,
    improvement_plan,
    load_edition,
    parse_edition,
    score_region,
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


@pytest.mark.parametrize(
    ("implemented_on", "developed_on", "counts"),
    [
        ("2024-01-01", None, True),  # both ends of the window belong to it
        ("2025-12-31", None, True),
        ("2023-12-31", None, False),
        ("2026-01-01", None, False),
        ("2019-05-01", "2024-02-01", True),  # a later development lets an older one in
        (None, "2025-06-30", True),
        ("2019-05-01", "2026-02-01", False),
        (None, None, False),
    ],
)
def test_the_implementation_window_rule(
    implemented_on: str | None, developed_on: str | None, counts: bool
) -> None:
    edition = load_edition("iid-2026")
    days = [date.fromisoformat(day) if day else None for day in (implemented_on, developed_on)]
    assert edition.in_implementation_window(*days) is counts


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


# --- every kind of bad document names the place -------------------------------------------


def _interval_without_bound(doc: dict[str, Any]) -> None:
    del doc["indicators"][3]["numeric"]["intervals"][1]["min"]


def _empty_interval(doc: dict[str, Any]) -> None:
    interval = doc["indicators"][3]["numeric"]["intervals"][1]
    interval["min"], interval["max"] = "9", "8"


def _duplicate_variable(doc: dict[str, Any]) -> None:
    doc["variables"][1]["code"] = doc["variables"][0]["code"]


def _duplicate_rating(doc: dict[str, Any]) -> None:
    doc["ratings"][1]["code"] = doc["ratings"][0]["code"]


def _duplicate_level(doc: dict[str, Any]) -> None:
    doc["indicators"][0]["levels"][2]["level"] = 2


# Problems of single fields: what the published JSON Schema says too.
SHAPE = [
    # wrong types, at every depth
    (_set("year", "2026"), "year: expected an integer, got '2026'"),
    (_set("year", True), "year: expected an integer, got True"),
    (_set("code", 2026), "code: expected a string, got 2026"),
    (_set("legal_source", "UU 23/2014"), "legal_source: expected a list, got 'UU 23/2014'"),
    (_set("legal_source/1", 7), "legal_source[1]: expected a string, got 7"),
    (_set("rules", []), "rules: expected an object, got []"),
    (_set("count_score/cap", 200.5), "count_score.cap: expected an integer, got 200.5"),
    (_set("indicators/0", "1"), "indicators[0]: expected an object, got '1'"),
    (_set("indicators/0/levels/0/text", None), 'indicators[0] (code "1").levels[0].text: expected'),
    (_set("indicators/12/mandatory", "true"), 'indicators[12] (code "10b").mandatory: expected'),
    (_set("ratings/2/min", [0]), 'ratings[2] (code "kurang_inovatif").min: expected a decimal'),
    (_set("maxima/spd", "sixty-three"), "maxima.spd: expected a decimal number, got 'sixty-three'"),
    # missing fields
    (_set("maxima", _DELETE), "maxima: missing field"),
    (_set("count_score/basic_service_gate", _DELETE), "count_score.basic_service_gate: missing"),
    (_set("variables/2/aspect", _DELETE), 'variables[2] (code "ekosistem_inovasi_kajian").aspect'),
    (_set("indicators/3/numeric/direction", _DELETE), '(code "3").numeric.direction: missing'),
    (_set("provisional/note", _DELETE), "provisional.note: missing field"),
    # unknown fields (a misspelt field is an error, not silently ignored)
    (_set("mandatroy", True), "mandatroy: unknown field"),
    (_set("indicators/5/mandatroy", True), 'indicators[5] (code "5a").mandatroy: unknown field'),
    (_set("rules/window", {}), "rules.window: unknown field"),
    # vocabularies and bounds of single fields
    (_set("variables/0/aspect", "spp"), "variables[0] (code \"institusi\").aspect: 'spp' is not"),
    (_set("indicators/0/answer_kind", "text"), "answer_kind: 'text' is not one of choice, numeric"),
    (_set("indicators/3/numeric/direction", "up"), "direction: 'up' is not one of higher, lower"),
    (_set("indicators/0/evidence", []), 'indicators[0] (code "1").evidence: at least 1'),
    (_set("count_score/cap", 0), "count_score.cap: must be at least 1, got 0"),
    (_set("indicators/0/levels/0/level", 0), "levels[0].level: must be at least 1, got 0"),
    (_set("indicators", []), "indicators: at least 1 item needed"),
    (_set("count_score/basic_service_gate", "pendidikan"), "basic_service_gate: expected an"),
    (_set("rules/implementation_window/start", "2024-02-30"), "window.start: '2024-02-30' is"),
    (_set("rules/implementation_window/end", 2025), "window.end: expected an ISO date, got 2025"),
    (_set("rules/implementation_window/end", _DELETE), "implementation_window.end: missing"),
    (_set("indicators/3/numeric/intervals", []), "numeric.intervals: at least 1 item needed"),
]
# Rules that tie fields together, and bounds of decimal strings.
RULES = [
    (_set("indicators/0/weight", "0"), 'indicators[0] (code "1").weight: must be positive'),
    (_set("indicators/0/weight", "-1"), "weight: must be positive, got -1"),
    # levels: the scale is the same 1..top for every indicator
    (_duplicate_level, 'indicators[0] (code "1").levels[2].level: level 2 listed twice'),
    (_set("indicators/0/levels/2/level", 4), '(code "1").levels: level 3 missing'),
    (_set("indicators/3/numeric/intervals/2/level", 4), "intervals[2].level: 4 outside 0..3"),
    # intervals
    (_interval_without_bound, "intervals[1].min_inclusive: given exactly when min is given"),
    (_empty_interval, '(code "3").numeric.intervals[1]: empty interval 9..8'),
    (_set("indicators/3/numeric/intervals/0/min", "-100"), "intervals[0].min_inclusive: given"),
    # duplicate codes
    (_duplicate_variable, 'variables[1] (code "institusi"): duplicate code'),
    (_duplicate_rating, 'ratings[1] (code "sangat_inovatif"): duplicate code'),
    # the count score and its gate
    (_set("count_score/variable", "hasil"), "count_score.variable: unknown variable 'hasil'"),
    (_set("count_score/basic_service_gate/urusan/1", "pendidikan"), "gate.urusan: duplicate"),
    (_set("count_score/basic_service_gate/min", 0), "gate.min: must be at least 1, got 0"),
    # the implementation window
    (_set("rules/implementation_window/start", "2026-01-01"), "_window: start 2026-01-01 after"),
    # settings the engine cannot honour
    (_set("rules/sub_rows_answered_separately", False), "only true is supported"),
]


@pytest.mark.parametrize(("change", "message"), SHAPE + RULES)
def test_every_kind_of_bad_document_names_the_place(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = copy.deepcopy(document())
    change(doc)
    with pytest.raises(EditionError) as caught:
        parse_edition(doc)
    assert message in str(caught.value)


def test_every_problem_of_the_shape_is_reported_at_once() -> None:
    doc = document()
    doc["year"] = "2026"
    doc["indicators"][5]["weight"] = "abc"
    del doc["rules"]["divisor_floor"]
    with pytest.raises(EditionError) as caught:
        parse_edition(doc)
    assert str(caught.value) == (
        "year: expected an integer, got '2026'; "
        "rules.divisor_floor: missing field; "
        "indicators[5] (code \"5a\").weight: expected a decimal number, got 'abc'"
    )


@pytest.mark.parametrize("document_given", [[1, 2], "iid-2026", None])
def test_a_document_is_an_object(document_given: Any) -> None:
    with pytest.raises(EditionError, match="document: expected an object"):
        parse_edition(document_given)


def test_the_level_scale_comes_from_the_edition() -> None:
    """An edition whose indicators have four levels scores 0..4: the engine, the maxima and
    the improvement plan follow the document."""
    doc = document()
    doc.update(code="iid-2027", year=2027)
    for indicator in doc["indicators"]:
        indicator["levels"].append({"level": 4, "text": "Lebih dari yang diminta"})
    doc["maxima"] = {"spd": "84", "sid_per_innovation": "148", "count_score": "76", "total": "308"}
    edition = parse_edition(doc)
    assert (edition.max_level, edition.level_range) == (4, range(5))
    assert edition.indicator("5a").max_points == Decimal("3.00")
    assert edition.resolve_level("1", 4) == 4
    with pytest.raises(AnswerError, match=r"level 5 outside 0\.\.4"):
        edition.resolve_level("1", 5)

    top = RegionInput(
        spd=dict.fromkeys(SPD_CODES, 4),
        innovations=[
            InnovationInput(
                id=f"i{k}",
                stage="penerapan",
                urusan=(urusan,),
                implemented_on=edition.implementation_window[0],
                answers=dict.fromkeys(SID_CODES, 4),
            )
            for k, urusan in enumerate(
                [u for u, v in URUSAN.items() if v.group == "wajib_pelayanan_dasar"] * 34
            )
        ],
    )
    card = score_region(edition, top)
    assert (card.index, card.total_score) == (100, 308)
    below_top = {**dict(top.spd), "1": 3}
    plan = improvement_plan(edition, replace(top, spd=below_top))
    assert [(i.indicator, i.from_level, i.to_level) for i in plan.improvements] == [("1", 3, 4)]


def test_the_json_schema_accepts_the_packaged_documents_and_refuses_bad_shapes() -> None:
    schema = edition_json_schema()
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.check_schema(schema)
    for code in available_editions():
        assert list(validator.iter_errors(document(code))) == []
    assert json.loads(json.dumps(schema)) == schema  # JSON-ready, as the API serves it
    for change, _ in SHAPE:
        doc = copy.deepcopy(document())
        change(doc)
        assert list(validator.iter_errors(doc)), change
