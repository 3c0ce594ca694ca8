"""The offline CLI, run as a separate process."""

from __future__ import annotations

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
