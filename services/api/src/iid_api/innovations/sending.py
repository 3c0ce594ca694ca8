"""What sending an innovation checks, in one place: `POST /v1/innovations/{id}/send` refuses
with these problems, and the completeness report shows them early."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Literal

from iid_scoring import Edition

ProblemCode = Literal["mandatory_unanswered", "design_words", "implementation_window"]


@dataclass(frozen=True)
class SendingCheck:
    code: ProblemCode
    detail: str
    # where the problem is, as JSON pointers into the innovation (one per missing indicator)
    pointers: tuple[str, ...]


def sending_problems(
    edition: Edition,
    *,
    design: str,
    implemented_on: date | None,
    developed_on: date | None,
    answered: Collection[str],
) -> list[SendingCheck]:
    """`answered`: the SID indicator codes answered above level 0."""
    problems = []
    missing = [i.code for i in edition.sid_indicators if i.mandatory and i.code not in answered]
    if missing:
        problems.append(
            SendingCheck(
                code="mandatory_unanswered",
                detail=f"mandatory indicators not answered above level 0: {', '.join(missing)}",
                pointers=tuple(f"/answers/{code}" for code in missing),
            )
        )
    words = len(design.split())
    if words < edition.min_design_words:
        problems.append(
            SendingCheck(
                code="design_words",
                detail=f"the design text (rancang bangun) has {words} words; "
                f"at least {edition.min_design_words} are required",
                pointers=("/design",),
            )
        )
    if not edition.in_implementation_window(implemented_on, developed_on):
        start, end = edition.implementation_window
        problems.append(
            SendingCheck(
                code="implementation_window",
                detail="neither implemented_on nor developed_on lies in the implementation "
                f"window {start}..{end}",
                pointers=("/implemented_on",),
            )
        )
    return problems
