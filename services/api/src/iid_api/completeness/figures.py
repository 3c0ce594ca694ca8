"""The completeness arithmetic, pure: answers and evidence kinds in, tallies and gaps out."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iid_api.answers.schemas import Aspect
from iid_api.completeness.schemas import (
    Figures,
    MandatoryEmpty,
    MissingEvidence,
)
from iid_api.kit.figures import percent_half_up
from iid_scoring import Indicator


@dataclass(frozen=True)
class Answer:
    id: uuid.UUID
    level: int


@dataclass
class Tally:
    indicators: int = 0
    answered: int = 0
    evidenced: int = 0

    def __iadd__(self, other: "Tally") -> "Tally":
        self.indicators += other.indicators
        self.answered += other.answered
        self.evidenced += other.evidenced
        return self

    def figures(self) -> Figures:
        return Figures(
            indicators=self.indicators,
            answered=self.answered,
            evidenced=self.evidenced,
            answered_percent=percent_half_up(self.answered, self.indicators),
            evidenced_percent=percent_half_up(self.evidenced, self.indicators),
        )


@dataclass
class Assessment:
    """One answer sheet (a region's SPD, or one innovation's SID) checked."""

    tally: Tally = field(default_factory=Tally)
    missing_evidence: list[MissingEvidence] = field(default_factory=list)
    mandatory_empty: list[MandatoryEmpty] = field(default_factory=list)


@dataclass(frozen=True)
class Sheet:
    aspect: Aspect
    indicators: Iterable[Indicator]
    answers: Mapping[str, Answer]  # by indicator code
    innovation_id: str | None = None
    innovation_name: str | None = None


def assess(sheet: Sheet, kinds_by_answer: Mapping[uuid.UUID, set[str]]) -> Assessment:
    result = Assessment()
    where = {
        "aspect": sheet.aspect,
        "innovation_id": sheet.innovation_id,
        "innovation_name": sheet.innovation_name,
    }
    for indicator in sheet.indicators:
        answer = sheet.answers.get(indicator.code)
        result.tally.indicators += 1
        if indicator.mandatory and (answer is None or answer.level == 0):
            result.mandatory_empty.append(
                MandatoryEmpty(
                    **where,
                    indicator=indicator.code,
                    name=indicator.name,
                    level=answer.level if answer else None,
                )
            )
        if answer is None:
            continue
        result.tally.answered += 1
        if answer.level == 0:  # "none of the options applies" needs no evidence
            continue
        found = kinds_by_answer.get(answer.id, set())
        if found & set(indicator.evidence_kinds):
            result.tally.evidenced += 1
            continue
        result.missing_evidence.append(
            MissingEvidence(
                **where,
                indicator=indicator.code,
                name=indicator.name,
                level=answer.level,
                reason="unacceptable" if found else "none",
                found_kinds=sorted(found),
                accepted_kinds=list(indicator.evidence_kinds),
            )
        )
    return result
