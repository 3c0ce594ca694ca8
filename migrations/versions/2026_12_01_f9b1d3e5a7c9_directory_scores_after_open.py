"""directory scores are copied only once a period has left `open`

The statement trigger on `scorecards` parsed every verified scorecard's payload to copy its
innovations' points into `directory_scores`, for every round of every period: 8-10% of a
national full recompute. Nothing shows those points before the period is published, so they
are now copied once the period is past `open` (`closed`, `verifying`, `published`); the
transition that closes a period copies what its verified scorecards say then
(directory/repository.py `copy_scores`). The trigger share-locks the rows' periods first: a
closing transition (which locks its period's row for update) waits for a round in flight, or
the round's trigger sees the period closed, so no round's points are missed.

Revision ID: f9b1d3e5a7c9
Revises: e7a9c1d3f5b7
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f9b1d3e5a7c9"
down_revision: str | None = "e7a9c1d3f5b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPSERT = """
    ON CONFLICT (entry_id) DO UPDATE SET points = EXCLUDED.points
    WHERE directory_scores.points IS DISTINCT FROM EXCLUDED.points;"""
AFTER_OPEN = (
    " PERFORM 1 FROM periods WHERE year IN (SELECT DISTINCT period_year FROM new_rows)"
    " FOR SHARE;"
    " INSERT INTO directory_scores (entry_id, points)"
    " SELECT e.id, (item->>'points')::numeric"
    " FROM new_rows n"
    " JOIN periods p ON p.year = n.period_year AND p.status NOT IN ('draft', 'open')"
    " CROSS JOIN LATERAL json_array_elements(n.payload->'innovations') AS item"
    " JOIN innovation_entries e ON e.id = (item->>'id')::uuid"
    " WHERE n.basis = 'verified'" + UPSERT
)
ALWAYS = (
    " INSERT INTO directory_scores (entry_id, points)"
    " SELECT e.id, (item->>'points')::numeric"
    " FROM new_rows n"
    " CROSS JOIN LATERAL json_array_elements(n.payload->'innovations') AS item"
    " JOIN innovation_entries e ON e.id = (item->>'id')::uuid"
    " WHERE n.basis = 'verified'" + UPSERT
)


def _function(body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION directory_scores_copy() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.execute(_function(AFTER_OPEN))


def downgrade() -> None:
    op.execute(_function(ALWAYS))
    # what the open periods' verified scorecards say, as the old trigger kept it
    op.execute(ALWAYS.replace("FROM new_rows n", "FROM scorecards n"))
