"""The lower bound of a full recompute: ONE SQL query that computes every region's claimed index
inside PostgreSQL from the same tables the worker reads.

It follows the engine (libs/scoring engine.py) on the claimed basis: SPD points = sum of
weight x level; an innovation counts when its stage is the edition's eligible stage and its
implementation (or latest development) date falls in the window; divisor = max(floor, n);
count score = per-innovation score x min(n, cap), zero unless the counted innovations' main
urusan (urusan[1]) cover at least `min` basic-service affairs; total = SPD + count +
SID points / divisor; index = total x 100 / max_total rounded half-up to 2 places. All in
exact numeric: the half-up rounding is an integer division (div) of exact numerics, as the
engine's round_half_up does on integers. The weights come from the edition as a VALUES list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import Edition


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _weights(edition: Edition) -> str:
    rows = (
        f"({_literal(i.aspect)}, {_literal(i.code)}, {i.weight}::numeric)"
        for i in edition.indicators
    )
    return ",\n    ".join(rows)


def _covered(edition: Edition) -> str:
    """Basic-service affairs covered by counted innovations, per region."""
    basic = ", ".join(_literal(code) for code in edition.basic_service_urusan) or "NULL"
    affair = "c.urusan[1]" if edition.gate_uses_main_urusan else "u.affair"
    source = (
        "counted c" if edition.gate_uses_main_urusan else "counted c, unnest(c.urusan) u(affair)"
    )
    return (
        f"SELECT c.region_code, count(DISTINCT {affair}) AS covered FROM {source}"
        f" WHERE {affair} IN ({basic}) GROUP BY c.region_code"
    )


def _count_score(edition: Edition) -> str:
    score = f"{edition.count_score_per_innovation}::numeric * least(t.n, {edition.count_score_cap})"
    if edition.basic_service_min is None:
        return score
    return f"CASE WHEN t.covered >= {edition.basic_service_min} THEN {score} ELSE 0 END"


def _rating(edition: Edition) -> str:
    """The band of the rounded index in hundredths (NULL when the edition rates unrounded)."""
    if not edition.rating_from_rounded_index:
        return "NULL::text"
    bands = sorted(edition.ratings, key=lambda band: band.min, reverse=True)
    cases = " ".join(
        f"WHEN units >= {int(band.min * 100)} THEN {_literal(band.code)}" for band in bands
    )
    return f"CASE {cases} END"


def claimed_index_sql(edition: Edition) -> str:
    start, end = edition.implementation_window
    window = f"DATE '{start}' AND DATE '{end}'"
    return f"""
WITH w(aspect, code, weight) AS (VALUES
    {_weights(edition)}
),
spd AS (
    SELECT a.region_code, sum(w.weight * a.level) AS points
    FROM spd_answers a JOIN w ON w.aspect = 'spd' AND w.code = a.indicator
    WHERE a.period_year = :year
    GROUP BY a.region_code
),
counted AS (
    SELECT e.id, e.region_code, e.urusan
    FROM innovation_entries e
    WHERE e.period_year = :year AND e.deleted_at IS NULL
      AND e.stage = {_literal(edition.eligible_stage)}
      AND (e.implemented_on BETWEEN {window} OR e.developed_on BETWEEN {window})
),
sid AS (
    SELECT c.region_code, sum(w.weight * s.level) AS points
    FROM counted c
    JOIN sid_answers s ON s.entry_id = c.id
    JOIN w ON w.aspect = 'sid' AND w.code = s.indicator
    GROUP BY c.region_code
),
n AS (SELECT region_code, count(*) AS n FROM counted GROUP BY region_code),
covered AS ({_covered(edition)}),
reported AS (  -- every region the service scores: assessable, in a cluster, or reporting
    SELECT code AS region_code FROM regions WHERE assessable
    UNION SELECT region_code FROM cluster_memberships WHERE period_year = :year
    UNION SELECT region_code FROM spd_answers WHERE period_year = :year
    UNION SELECT region_code FROM innovation_entries WHERE period_year = :year
),
t AS (
    SELECT r.region_code,
           coalesce(spd.points, 0) AS spd,
           coalesce(sid.points, 0) AS sid,
           coalesce(n.n, 0) AS n,
           coalesce(covered.covered, 0) AS covered,
           greatest({edition.divisor_floor}, coalesce(n.n, 0)) AS divisor
    FROM reported r
    LEFT JOIN spd ON spd.region_code = r.region_code
    LEFT JOIN sid ON sid.region_code = r.region_code
    LEFT JOIN n ON n.region_code = r.region_code
    LEFT JOIN covered ON covered.region_code = r.region_code
),
totals AS (
    -- N = total x divisor, exact; units = round_half_up(N x 10000, divisor x max_total)
    SELECT region_code, divisor, (spd + {_count_score(edition)}) * divisor + sid AS big_n
    FROM t
),
units AS (
    SELECT region_code,
           div(2 * big_n * 10000 + divisor * {edition.max_total}::numeric,
               2 * divisor * {edition.max_total}::numeric) AS units
    FROM totals
)
SELECT region_code, (units / 100)::numeric(5, 2) AS index, {_rating(edition)} AS rating
FROM units
ORDER BY region_code
"""


@dataclass(frozen=True)
class Agreement:
    regions: int
    mismatches: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"regions": self.regions, "mismatches": len(self.mismatches)}


async def sql_indices(
    session: AsyncSession, edition: Edition, year: int
) -> dict[str, tuple[Decimal, str | None]]:
    rows = await session.execute(text(claimed_index_sql(edition)), {"year": year})
    return {code: (index, rating) for code, index, rating in rows}


async def compare_with_scorecards(
    session: AsyncSession, year: int, computed: dict[str, tuple[Decimal, str | None]]
) -> Agreement:
    """Every stored claimed scorecard against the query's index (and rating), both ways."""
    stored = {
        code: (index, rating)
        for code, index, rating in await session.execute(
            text(
                "SELECT region_code, index, rating FROM scorecards"
                " WHERE period_year = :year AND basis = 'claimed'"
            ),
            {"year": year},
        )
    }
    mismatches = []
    for code in sorted(stored.keys() | computed.keys()):
        mine, theirs = computed.get(code), stored.get(code)
        if mine is None or theirs is None or not _same(mine, theirs):
            mismatches.append(f"{code}: sql={mine} stored={theirs}")
    return Agreement(regions=len(stored), mismatches=mismatches)


def _same(sql: tuple[Decimal, str | None], stored: tuple[Decimal, str]) -> bool:
    index, rating = sql
    return index == stored[0] and (rating is None or rating == stored[1])
