"""The verified basis: a region's claimed answers plus its verifiers' decisions, turned into the
input the verified scorecard is scored from.

- `accept` keeps the claim; `lower` scores the verifier's level; `reject` scores 0;
- an answer without a decision yet scores 0 and is counted as undecided;
- an innovation rejected as a whole adds 0 points yet stays in n (the engine's `rejected`
  flag); its answers are decided with it: they score 0 and are not undecided.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from iid_scoring.editions import Edition
from iid_scoring.errors import AnswerError
from iid_scoring.inputs import Answer, InnovationInput, RegionInput

DECISION_KINDS = ("accept", "lower", "reject")
Claim = TypeVar("Claim", bound=Answer)  # a level (int) or a Measured value


@dataclass(frozen=True, slots=True)
class Decision:
    """A verifier's decision on one claimed answer; `level` is the verifier's level, given for
    (and only for) `lower`."""

    kind: str  # accept | lower | reject
    level: int | None = None


@dataclass(frozen=True, slots=True)
class Decisions:
    """A region's verifier decisions: per SPD answer (indicator code), per SID answer of each
    innovation (innovation id -> indicator code), and the innovations rejected as a whole."""

    spd: Mapping[str, Decision] = field(default_factory=dict)
    innovations: Mapping[str, Mapping[str, Decision]] = field(default_factory=dict)
    rejected: Collection[str] = frozenset()


@dataclass(frozen=True, slots=True)
class VerifiedInput:
    region_input: RegionInput
    undecided_answers: int


def verified_level(
    claimed: Claim, decision: Decision | None, *, innovation_rejected: bool = False
) -> Claim | int | None:
    """What one claimed answer scores on the verified basis; None while it is undecided."""
    if innovation_rejected:
        return 0
    if decision is None:
        return None
    if decision.kind == "accept":
        return claimed
    if decision.kind == "lower":
        assert decision.level is not None, "a lower decision carries the verifier's level"
        return decision.level
    return 0


def verified_input(claimed: RegionInput, decisions: Decisions) -> VerifiedInput:
    """The verified basis of a region whose listed innovations were all sent, and the number of
    its undecided answers. An innovation is rejected when `decisions.rejected` lists it (or its
    input says so)."""
    spd, undecided = _decided(claimed.spd, decisions.spd, rejected=False)
    innovations = []
    for innovation in claimed.innovations:
        rejected = innovation.rejected or innovation.id in decisions.rejected
        answers, pending = _decided(
            innovation.answers, decisions.innovations.get(innovation.id), rejected
        )
        undecided += pending
        innovations.append(
            InnovationInput(
                id=innovation.id,
                stage=innovation.stage,
                rejected=rejected,
                urusan=innovation.urusan,
                implemented_on=innovation.implemented_on,
                developed_on=innovation.developed_on,
                answers=answers,
            )
        )
    return VerifiedInput(RegionInput(spd, tuple(innovations), claimed.region), undecided)


def _decided(
    claims: Mapping[str, Answer], decided: Mapping[str, Decision] | None, rejected: bool
) -> tuple[dict[str, Answer], int]:
    """The verified answers of one set of claims, and how many are undecided."""
    if rejected or not decided:  # the usual case while verifiers have not reached a region
        return dict.fromkeys(claims, 0), 0 if rejected else len(claims)
    answers: dict[str, Answer] = {}
    undecided = 0
    for code, claim in claims.items():
        level = verified_level(claim, decided.get(code))
        if level is None:
            undecided += 1
        answers[code] = 0 if level is None else level
    return answers, undecided


def check_decisions(edition: Edition, claimed: RegionInput, decisions: Decisions) -> None:
    """AnswerError naming the field (`decisions.innovations.a.16.level`) of a decision that
    cannot stand: one on an answer nobody claimed, of an unknown kind, a lower without a
    level, or a level not below the claim. The API checks the same before it stores one."""
    _check_answers(edition, claimed.spd, decisions.spd, "decisions.spd")
    by_id = {innovation.id: innovation for innovation in claimed.innovations}
    for innovation_id, decided in decisions.innovations.items():
        place = f"decisions.innovations.{innovation_id}"
        if innovation_id not in by_id:
            raise AnswerError(place, f"no innovation {innovation_id!r} in the region's input")
        _check_answers(edition, by_id[innovation_id].answers, decided, place)
    for k, innovation_id in enumerate(decisions.rejected):
        if innovation_id not in by_id:
            raise AnswerError(
                f"decisions.rejected[{k}]", f"no innovation {innovation_id!r} in the region's input"
            )


def _check_answers(
    edition: Edition, claims: Mapping[str, Answer], decided: Mapping[str, Decision], place: str
) -> None:
    for code, decision in decided.items():
        if code not in claims:
            raise AnswerError(f"{place}.{code}", "no claimed answer to decide on")
        if decision.kind not in DECISION_KINDS:
            raise AnswerError(
                f"{place}.{code}.decision",
                f"unknown decision {decision.kind!r} (one of {', '.join(DECISION_KINDS)})",
            )
        if (decision.kind == "lower") != (decision.level is not None):
            raise AnswerError(f"{place}.{code}.level", "given for (and only for) lower")
        if decision.level is not None:
            claim = edition.resolve_level(code, claims[code])
            if not 0 <= decision.level < claim:
                raise AnswerError(
                    f"{place}.{code}.level",
                    f"lower means below the claimed level {claim}; got {decision.level}",
                )
