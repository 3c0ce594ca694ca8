"""How verifiers decide: per indicator and claimed level, the probability of each decision.

A verifier accepts an answer (it keeps its claimed level c), lowers it to a level j < c, or
rejects it (0); a whole innovation may be rejected (it stays in n, adds 0). The model estimates
these probabilities from counted decisions (published periods and the current one) with a
three-level Dirichlet hierarchy, so that a sparse cell borrows from its indicator and an
indicator from the edition:

1. edition: the shares of the three kinds (accept, lower, reject) over every decision,
   shrunk towards `Prior.base` with `Prior.base_strength` pseudo-decisions; and, per claimed
   level c, how a lowering splits over the target levels 0..c-1 (one pseudo-decision each);
2. indicator: its kind shares, shrunk towards the edition's with `indicator_strength`;
3. cell (indicator, claimed level): its outcome counts, shrunk towards the indicator's kind
   shares (a lowering split as the edition splits it at that level) with `cell_strength`.

Each estimate is the posterior mean. A whole-innovation rejection is a Beta(`rejection_mean` x
s, (1 - `rejection_mean`) x s) prior with s = `rejection_strength`, updated with the counted
rejected and kept innovations. Pure Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iid_scoring.editions import Edition

KINDS = ("accept", "lower", "reject")
ACCEPT, REJECT = "accept", "reject"


def outcomes(claimed: int) -> tuple[str, ...]:
    """The outcomes of an answer claimed at `claimed` (1..3): accept, lower_0 .. lower_{c-1},
    reject."""
    return (ACCEPT, *(f"lower_{j}" for j in range(claimed)), REJECT)


def outcome_of(decision: str, lowered_to: int | None) -> str:
    """The outcome name of a stored decision ("lower" with its level)."""
    return f"lower_{lowered_to}" if decision == "lower" else decision


def kind_of(outcome: str) -> str:
    return "lower" if outcome.startswith("lower_") else outcome


def verified_level_of(outcome: str, claimed: int) -> int:
    if outcome == ACCEPT:
        return claimed
    if outcome == REJECT:
        return 0
    return int(outcome.removeprefix("lower_"))


@dataclass(frozen=True)
class Prior:
    """The stated prior (docs/uncertainty.md). Shares of the base must add up to 1."""

    base: Mapping[str, float] = field(
        default_factory=lambda: {"accept": 0.6, "lower": 0.2, "reject": 0.2}
    )
    base_strength: float = 10.0
    lower_split_strength: float = 1.0  # pseudo-decisions per target level of a lowering
    indicator_strength: float = 20.0
    cell_strength: float = 10.0
    rejection_mean: float = 0.05
    rejection_strength: float = 20.0

    def to_dict(self) -> dict[str, object]:
        return {
            "base": dict(self.base),
            "base_strength": self.base_strength,
            "lower_split_strength": self.lower_split_strength,
            "indicator_strength": self.indicator_strength,
            "cell_strength": self.cell_strength,
            "rejection_mean": self.rejection_mean,
            "rejection_strength": self.rejection_strength,
        }


DEFAULT_PRIOR = Prior()


@dataclass(frozen=True)
class DecisionCounts:
    """What was decided: (indicator, claimed level, outcome) -> number of answers, and the
    numbers of innovations rejected as a whole and kept (settled without rejection)."""

    answers: Mapping[tuple[str, int, str], int] = field(default_factory=dict)
    innovations_rejected: int = 0
    innovations_kept: int = 0


@dataclass(frozen=True)
class CellEstimate:
    indicator: str
    claimed_level: int
    counts: Mapping[str, int]  # outcome -> decisions counted
    probabilities: Mapping[str, float]  # outcome -> posterior mean, in `outcomes` order

    @property
    def decisions(self) -> int:
        return sum(self.counts.values())

    def level_probabilities(self) -> tuple[float, ...]:
        """P(verified level = v) for v = 0..claimed (a lowering to 0 and a rejection both
        score 0)."""
        shares = [0.0] * (self.claimed_level + 1)
        for outcome, p in self.probabilities.items():
            shares[verified_level_of(outcome, self.claimed_level)] += p
        return tuple(shares)


@dataclass(frozen=True, eq=False)  # compared by identity: simulations cache per model
class DecisionModel:
    prior: Prior
    edition_kinds: Mapping[str, float]
    edition_counts: Mapping[str, int]
    lower_split: Mapping[int, tuple[float, ...]]  # claimed level -> P(target j | lowered)
    indicator_kinds: Mapping[str, Mapping[str, float]]
    indicator_counts: Mapping[str, Mapping[str, int]]
    cells: Mapping[tuple[str, int], CellEstimate]  # every indicator x claimed level 1..3
    innovation_rejection: float
    innovations_rejected: int
    innovations_kept: int

    def cell(self, indicator: str, claimed_level: int) -> CellEstimate:
        return self.cells[indicator, claimed_level]


def _shrunk(
    counts: Mapping[str, float], towards: Mapping[str, float], strength: float
) -> dict[str, float]:
    """Posterior mean of a Dirichlet with mean `towards` and `strength` pseudo-counts."""
    total = sum(counts.values()) + strength
    return {key: (counts.get(key, 0) + strength * share) / total for key, share in towards.items()}


def estimate(
    edition: Edition, counted: DecisionCounts, prior: Prior = DEFAULT_PRIOR
) -> DecisionModel:
    """The model for `edition`'s indicators; counts of codes the edition lacks are ignored."""
    codes = [i.code for i in edition.indicators]
    known = set(codes)
    per_cell: dict[tuple[str, int], dict[str, int]] = {}
    for (code, claimed, outcome), n in counted.answers.items():
        if code in known and 1 <= claimed <= 3 and outcome in outcomes(claimed) and n > 0:
            cell = per_cell.setdefault((code, claimed), {})
            cell[outcome] = cell.get(outcome, 0) + n
    indicator_counts = {code: _kind_counts(_cells_of(per_cell, code)) for code in codes}
    edition_counts = _add(indicator_counts.values())
    edition_kinds = _shrunk(edition_counts, prior.base, prior.base_strength)
    lower_split = {c: _lower_split(per_cell, c, prior.lower_split_strength) for c in (1, 2, 3)}
    indicator_kinds = {
        code: _shrunk(indicator_counts[code], edition_kinds, prior.indicator_strength)
        for code in codes
    }
    cells = {}
    for code in codes:
        for claimed in (1, 2, 3):
            counts = per_cell.get((code, claimed), {})
            towards = {
                outcome: indicator_kinds[code][kind_of(outcome)]
                * (
                    lower_split[claimed][verified_level_of(outcome, claimed)]
                    if kind_of(outcome) == "lower"
                    else 1.0
                )
                for outcome in outcomes(claimed)
            }
            cells[code, claimed] = CellEstimate(
                code,
                claimed,
                {outcome: counts.get(outcome, 0) for outcome in outcomes(claimed)},
                _shrunk(counts, towards, prior.cell_strength),
            )
    rejected, kept = counted.innovations_rejected, counted.innovations_kept
    rejection = (rejected + prior.rejection_mean * prior.rejection_strength) / (
        rejected + kept + prior.rejection_strength
    )
    return DecisionModel(
        prior=prior,
        edition_kinds=edition_kinds,
        edition_counts=edition_counts,
        lower_split=lower_split,
        indicator_kinds=indicator_kinds,
        indicator_counts=indicator_counts,
        cells=cells,
        innovation_rejection=rejection,
        innovations_rejected=rejected,
        innovations_kept=kept,
    )


def _cells_of(
    per_cell: Mapping[tuple[str, int], Mapping[str, int]], code: str
) -> Iterable[Mapping[str, int]]:
    return (counts for (c, _), counts in per_cell.items() if c == code)


def _kind_counts(cells: Iterable[Mapping[str, int]]) -> dict[str, int]:
    kinds = dict.fromkeys(KINDS, 0)
    for counts in cells:
        for outcome, n in counts.items():
            kinds[kind_of(outcome)] += n
    return kinds


def _add(many: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(KINDS, 0)
    for counts in many:
        for kind, n in counts.items():
            total[kind] += n
    return total


def _lower_split(
    per_cell: Mapping[tuple[str, int], Mapping[str, int]], claimed: int, strength: float
) -> tuple[float, ...]:
    """P(target level j | lowered from `claimed`), j = 0..claimed-1, over every indicator."""
    targets = [strength] * claimed
    for (_, c), counts in per_cell.items():
        if c == claimed:
            for j in range(claimed):
                targets[j] += counts.get(f"lower_{j}", 0)
    total = sum(targets)
    return tuple(t / total for t in targets)


def _four(value: float) -> str:
    return f"{value:.4f}"


def model_document(model: DecisionModel) -> dict[str, Any]:
    """The model as JSON-ready data: the prior, the edition's and each indicator's kind shares
    and counts, every cell's outcome probabilities (strings with 4 places) and counts."""
    cells_by_indicator: dict[str, list[dict[str, Any]]] = {}
    for (code, claimed), cell in model.cells.items():
        cells_by_indicator.setdefault(code, []).append(
            {
                "claimed_level": claimed,
                "decisions": cell.decisions,
                "counts": dict(cell.counts),
                "probabilities": {k: _four(p) for k, p in cell.probabilities.items()},
            }
        )
    return {
        "prior": model.prior.to_dict(),
        "edition": {
            "counts": dict(model.edition_counts),
            "probabilities": {k: _four(p) for k, p in model.edition_kinds.items()},
        },
        "lower_split": {
            str(claimed): [_four(p) for p in split] for claimed, split in model.lower_split.items()
        },
        "innovation_rejection": {
            "rejected": model.innovations_rejected,
            "kept": model.innovations_kept,
            "probability": _four(model.innovation_rejection),
        },
        "indicators": [
            {
                "indicator": code,
                "counts": dict(model.indicator_counts[code]),
                "probabilities": {k: _four(p) for k, p in model.indicator_kinds[code].items()},
                "cells": cells,
            }
            for code, cells in cells_by_indicator.items()
        ],
    }
