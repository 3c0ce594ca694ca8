"""The offline CLI, run as a separate process."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

REGION = {
    "region": "73.72",
    "spd": {"1": 3, "5a": {"value": "0.20"}, "8": 3},
    "innovations": [
        {
            "id": "a",
            "stage": "penerapan",
            "rejected": False,
            "implemented_on": "2022-03-01",
            "urusan": ["kesehatan"],
            "answers": {"16": 3, "17": 1},
        },
        {"id": "b", "stage": "uji_coba", "answers": {"16": 2}},
    ],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iid_scoring.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_single_object(tmp_path: Path) -> None:
    path = tmp_path / "region.json"
    path.write_text(json.dumps(REGION, indent=2))
    result = run("--edition", "iid-2023", str(path))
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    for key in (
        "edition",
        "index",
        "rating",
        "spd_score",
        "sid_score",
        "count_score",
        "total_score",
        "max_total_score",
        "indicators",
        "variables",
        "innovations",
    ):
        assert key in card
    assert card["region"] == "73.72"
    assert card["spd_score"] == "9.00"  # 3 + 0.75 x 2 + 4.5
    assert card["sid_score"] == "1.48"  # (9 + 2) / 10 + 0.38
    assert card["index"] == "4.19"  # 10.48 / 250 x 100 = 4.192
    assert card["innovations"][1] == {
        "id": "b",
        "status": "excluded",
        "reason": "stage",
        "points": "0.00",
        "levels": {"16": 2},
    }


def test_json_lines_from_stdin_with_bad_lines() -> None:
    bad_level = {**REGION, "region": "11.01", "spd": {"1": 5}}
    bad_stage = {"region": "11.02", "innovations": [{"id": "x", "stage": "pilot"}]}
    lines = [
        json.dumps(REGION),
        json.dumps(bad_level),
        "{not json",
        json.dumps(bad_stage),
        json.dumps({"spd": {"99": 1}}),
        json.dumps({**REGION, "region": "11.05"}),
    ]
    result = run("--edition", "iid-2026", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["region"] for c in out] == ["73.72", "11.05"]
    errors = result.stderr.splitlines()
    assert errors[0] == 'iid-score: line 2 (region "11.01"): spd.1: level 5 outside 0..3'
    assert errors[1].startswith("iid-score: line 3: malformed JSON")
    assert errors[2].startswith(
        'iid-score: line 4 (region "11.02"): innovations[0].stage: unknown stage'
    )
    assert errors[3].startswith("iid-score: line 5: spd.99: unknown SPD indicator code '99'")


def test_value_on_a_choice_row_and_bad_date() -> None:
    bad = {"spd": {"8": {"value": 3}}}
    result = run("--edition", "iid-2026", "-", stdin=json.dumps(bad))
    assert result.returncode == 1
    assert "spd.8: a value was given but this row takes a level" in result.stderr
    bad_date = {"innovations": [{"id": "a", "stage": "penerapan", "implemented_on": "2024-13-01"}]}
    result = run("--edition", "iid-2026", "-", stdin=json.dumps(bad_date))
    assert "innovations[0].implemented_on: expected an ISO date" in result.stderr


def test_unknown_edition_and_usage() -> None:
    result = run("--edition", "iid-1999", "-", stdin="{}")
    assert result.returncode == 2
    assert "unknown edition 'iid-1999'" in result.stderr
    assert run().returncode == 2


def test_editions_command() -> None:
    result = run("editions")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("iid-2023\t")
    assert "provisional: spd" in result.stdout
    assert result.stdout.splitlines()[1].startswith("iid-2026\t")
    assert result.stdout.splitlines()[2].startswith("iid-2027-draft\t")


def test_explain(tmp_path: Path) -> None:
    path = tmp_path / "region.json"
    path.write_text(json.dumps(REGION))
    result = run("explain", "--edition", "iid-2023", str(path), "--top", "5")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "IID 4.19  Kurang Inovatif" in text
    assert "PROVISIONAL" in text
    assert "Improvement plan (best 5 of" in text
    assert "add a fully answered innovation" in text
    assert "Weaknesses:" in text


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "iid-score"
    result = subprocess.run([str(script), "editions"], capture_output=True, text=True, check=False)
    assert result.returncode == 0


# The worked example of libs/scoring/README.md ("--basis verified").
VERIFIED_EXAMPLE = {
    "region": "73.72",
    "spd": {"1": 3, "5a": 2, "9": 3},
    "innovations": [
        {
            "id": "a",
            "stage": "penerapan",
            "implemented_on": "2024-03-01",
            "urusan": ["kesehatan"],
            "answers": {"16": 3, "17": 2, "32": 3, "35": 3},
        },
        {
            "id": "b",
            "stage": "penerapan",
            "implemented_on": "2024-05-01",
            "urusan": ["pendidikan"],
            "answers": {"16": 3, "17": 3},
        },
    ],
    "decisions": {
        "spd": {
            "1": {"decision": "accept"},
            "5a": {"decision": "reject", "note": "data tidak sesuai"},
            "9": {"decision": "lower", "level": 1, "note": "SK hanya draf"},
        },
        "innovations": {
            "a": {"16": {"decision": "lower", "level": 1}, "17": {"decision": "accept"}}
        },
        "rejected": ["b"],
    },
}


def test_verified_basis_worked_example() -> None:
    text = json.dumps(VERIFIED_EXAMPLE)
    verified = run("--edition", "iid-2026", "--basis", "verified", "-", stdin=text)
    assert verified.returncode == 0, verified.stderr
    card = json.loads(verified.stdout)
    assert (card["index"], card["spd_score"], card["sid_score"]) == ("1.83", "4.00", "0.58")
    assert (card["counted_innovations"], card["undecided_answers"]) == (2, 2)
    assert [(i["id"], i["status"], i["points"], i["levels"]) for i in card["innovations"]] == [
        ("a", "counted", "7.00", {"16": 1, "17": 2, "32": 0, "35": 0}),
        ("b", "rejected", "0.00", {"16": 0, "17": 0}),
    ]
    # the same file on the claimed basis: decisions are not read
    claimed = json.loads(run("--edition", "iid-2026", "-", stdin=text).stdout)
    assert (claimed["index"], "undecided_answers" in claimed) == ("4.53", False)


def test_verified_basis_bad_decisions_name_the_field() -> None:
    raised = copy.deepcopy(VERIFIED_EXAMPLE)
    raised["decisions"]["spd"]["9"]["level"] = 3  # type: ignore[index]
    lines = [
        json.dumps(raised),
        json.dumps({**VERIFIED_EXAMPLE, "region": "11.01", "decisions": {"spd": {"1": "ok"}}}),
        json.dumps({**VERIFIED_EXAMPLE, "region": "11.02", "decisions": {"rejected": ["z"]}}),
    ]
    result = run("--edition", "iid-2026", "--basis", "verified", "-", stdin="\n".join(lines))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'iid-score: line 1 (region "73.72"): decisions.spd.9.level: lower means below the'
        " claimed level 3; got 3",
        'iid-score: line 2 (region "11.01"): decisions.spd.1: expected {"decision": "accept"'
        ' | "lower" | "reject", ...}',
        "iid-score: line 3 (region \"11.02\"): decisions.rejected[0]: no innovation 'z' in the"
        " region's input",
    ]
