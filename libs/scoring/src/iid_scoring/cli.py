"""`iid-score`: score regions offline.

    iid-score --edition iid-2023 [--basis verified] FILE|-   one scorecard JSON per region
    iid-score editions                                         list the packaged editions
    iid-score explain --edition iid-2023 FILE|-                readable scorecard and plan

FILE holds one region as a JSON object or many as JSON Lines. A bad region is reported on
stderr (line, field, reason) and the exit status is 1; the other regions still print.
`--basis verified` scores what verifiers kept: the region's `decisions` applied to its claims
(libs/scoring/README.md), with the count of undecided answers beside the scorecard.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from iid_scoring._decimal import fmt2
from iid_scoring.editions import Edition
from iid_scoring.engine import score_region
from iid_scoring.errors import AnswerError, EditionError
from iid_scoring.improvements import ImprovementPlan, improvement_plan
from iid_scoring.inputs import RegionInput
from iid_scoring.jsonio import decisions_from_json, region_from_json
from iid_scoring.loading import available_editions, load_edition
from iid_scoring.scorecard import Scorecard
from iid_scoring.verification import check_decisions, verified_input

_Region = tuple[RegionInput, Any]  # the input and the JSON it came from


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["editions"]:
        return _editions()
    explain = args[:1] == ["explain"]
    options = _parser(explain).parse_args(args[1:] if explain else args)
    try:
        edition = load_edition(options.edition)
    except EditionError as exc:
        print(f"iid-score: {exc}", file=sys.stderr)
        return 2
    text = _read(options.file)
    failed = False
    for line, parsed in _regions(text):
        if isinstance(parsed, str):
            failed = True
            print(f"iid-score: line {line}: {parsed}", file=sys.stderr)
            continue
        region, data = parsed
        try:
            scored, undecided = _on_basis(edition, region, data, options.basis)
            if explain:
                out = _explain(edition, scored, options.top)
            else:
                out = _score(edition, scored, undecided)
        except AnswerError as exc:
            failed = True
            label = f' (region "{region.region}")' if region.region else ""
            print(f"iid-score: line {line}{label}: {exc.field}: {exc.reason}", file=sys.stderr)
            continue
        print(out, flush=True)
    return 1 if failed else 0


def _parser(explain: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iid-score explain" if explain else "iid-score",
        description="Score IID regions offline (JSON object or JSON Lines in, JSON out). "
        "Other commands: `iid-score editions`, `iid-score explain`.",
    )
    parser.add_argument("--edition", required=True, help="edition code, see `iid-score editions`")
    parser.add_argument(
        "--basis",
        choices=("claimed", "verified"),
        default="claimed",
        help="claimed (default): the answers as given; verified: with the region's decisions",
    )
    parser.add_argument("file", help="input file, or - for stdin")
    if explain:
        parser.add_argument("--top", type=int, default=20, help="improvements to show (default 20)")
    return parser


def _editions() -> int:
    for code in available_editions():
        edition = load_edition(code)
        note = (
            " [provisional: " + ", ".join(edition.provisional_parts) + "]"
            if edition.provisional
            else ""
        )
        print(f"{code}\t{edition.title}{note}")
    return 0


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _regions(text: str) -> Iterator[tuple[int, _Region | str]]:
    """(line number, region or error message). A document that parses as a whole is one
    region (it may be pretty-printed over many lines); otherwise every line is one region."""
    try:
        whole = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield 1, _region(whole)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, _parse_line(line)


def _parse_line(line: str) -> _Region | str:
    try:
        data = json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} (column {exc.colno})"
    return _region(data)


def _region(data: Any) -> _Region | str:
    try:
        return region_from_json(data), data
    except AnswerError as exc:
        label = (
            f' (region "{data["region"]}")'
            if isinstance(data, dict) and isinstance(data.get("region"), str)
            else ""
        )
        return f"{exc.field}: {exc.reason}{label}"


def _on_basis(
    edition: Edition, region: RegionInput, data: Any, basis: str
) -> tuple[RegionInput, int | None]:
    """The input to score, and on the verified basis the number of undecided answers."""
    if basis == "claimed":
        return region, None
    decisions = decisions_from_json(data)
    check_decisions(edition, region, decisions)
    verified = verified_input(region, decisions)
    return verified.region_input, verified.undecided_answers


def _score(edition: Edition, region: RegionInput, undecided: int | None) -> str:
    card = score_region(edition, region).to_dict()
    if undecided is not None:
        card["undecided_answers"] = undecided
    return json.dumps(card, ensure_ascii=False)


# --- explain --------------------------------------------------------------------------------


def _explain(edition: Edition, region: RegionInput, top: int) -> str:
    card = score_region(edition, region)
    plan = improvement_plan(edition, region)
    lines: list[str] = []
    _summary(lines, edition, card)
    _indicator_table(lines, edition, card)
    _variable_table(lines, card)
    _innovation_table(lines, card)
    _plan_table(lines, edition, plan, top)
    return "\n".join(lines) + "\n"


def _summary(out: list[str], edition: Edition, card: Scorecard) -> None:
    out.append(f"Region {card.region or '-'}  edition {edition.code} ({edition.title})")
    if card.provisional:
        out.append(
            f"  PROVISIONAL ({', '.join(edition.provisional_parts)}): {edition.provisional_note}"
        )
    out.append(f"  IID {fmt2(card.index)}  {card.rating_label}")
    out.append(
        f"  SPD {fmt2(card.spd_score)} + SID {fmt2(card.sid_score)}"
        f" (count score {fmt2(card.count_score)})"
        f" = {fmt2(card.total_score)} of {fmt2(card.max_total_score)}"
    )
    out.append(f"  innovations counted n={card.counted_innovations}, divisor {card.divisor}")
    if edition.basic_service_min is not None:
        covered = ", ".join(card.basic_service_covered) or "none"
        out.append(
            f"  basic-service urusan covered {len(card.basic_service_covered)}/"
            f"{len(edition.basic_service_urusan)} (gate {edition.basic_service_min}): {covered}"
        )


def _table(
    out: list[str], title: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    out.append("")
    out.append(title)
    for row in [header, *rows]:
        out.append(
            "  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )


def _indicator_table(out: list[str], edition: Edition, card: Scorecard) -> None:
    rows = [
        (
            s.code,
            edition.indicator(s.code).name[:48],
            s.aspect.upper(),
            "-" if s.level is None else str(s.level),
            fmt2(s.points),
            fmt2(s.max_points),
        )
        for s in card.indicators
    ]
    _table(
        out,
        "Indicators (SID rows: contribution to SID)",
        ("code", "name", "aspect", "level", "points", "max"),
        rows,
    )


def _variable_table(out: list[str], card: Scorecard) -> None:
    rows = [
        (v.name, v.aspect.upper(), fmt2(v.points), fmt2(v.max_points), fmt2(v.share) + "%")
        for v in card.variables
    ]
    _table(out, "Variables", ("variable", "aspect", "points", "max", "share"), rows)


def _innovation_table(out: list[str], card: Scorecard) -> None:
    rows = [(i.id, i.status, i.reason or "", fmt2(i.points)) for i in card.innovations]
    if rows:
        _table(out, "Innovations", ("id", "status", "reason", "points"), rows)


def _plan_table(out: list[str], edition: Edition, plan: ImprovementPlan, top: int) -> None:
    rows = []
    for item in plan.improvements[:top]:
        if item.kind == "add_innovation":
            what = "add a fully answered innovation"
            if item.urusan:
                what += " with main urusan one of " + ", ".join(item.urusan)
        else:
            where = f" of innovation {item.innovation_id}" if item.innovation_id else ""
            name = edition.indicator(str(item.indicator)).name[:40]
            change = f"{item.from_level} -> {item.to_level}"
            what = f"{item.indicator} {name}{where}: {change}"
        rows.append(("+" + fmt2(item.index_gain), fmt2(item.new_index), what))
    shown = f"best {min(top, len(plan.improvements))} of {len(plan.improvements)}"
    _table(out, f"Improvement plan ({shown})", ("gain", "new IID", "change"), rows)
    out.append("")
    out.append(
        "Strengths: " + (", ".join(f"{v.name} {fmt2(v.share)}%" for v in plan.strengths) or "-")
    )
    out.append(
        "Weaknesses: " + (", ".join(f"{v.name} {fmt2(v.share)}%" for v in plan.weaknesses) or "-")
    )


if __name__ == "__main__":
    sys.exit(main())
