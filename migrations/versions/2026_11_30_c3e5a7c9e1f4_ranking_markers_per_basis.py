"""ranking markers per basis: a cluster's ranking is rewritten only on the basis that moved

While a period is open only claimed scorecards move, so the verified ranking need not be
rewritten every round. Existing markers stand for both bases.

Revision ID: c3e5a7c9e1f4
Revises: b2d4f6a8c0e2
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e5a7c9e1f4"
down_revision: str | None = "b2d4f6a8c0e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ranking_markers",
        sa.Column("basis", sa.String(length=10), nullable=False, server_default="claimed"),
    )
    op.execute(
        "INSERT INTO ranking_markers (period_year, cluster, basis, generation, requested_at,"
        " first_requested_at) SELECT period_year, cluster, 'verified', generation, requested_at,"
        " first_requested_at FROM ranking_markers"
    )
    op.alter_column("ranking_markers", "basis", server_default=None)
    op.drop_constraint("pk_ranking_markers", "ranking_markers", type_="primary")
    op.create_primary_key(
        "pk_ranking_markers", "ranking_markers", ["period_year", "cluster", "basis"]
    )
    op.create_check_constraint(
        op.f("ck_ranking_markers_basis"), "ranking_markers", "basis IN ('claimed', 'verified')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_ranking_markers_basis"), "ranking_markers", type_="check")
    # one marker per cluster again: a verified one stays only where no claimed one does
    op.execute(
        "DELETE FROM ranking_markers v USING ranking_markers c WHERE v.basis = 'verified'"
        " AND c.basis = 'claimed' AND c.period_year = v.period_year AND c.cluster = v.cluster"
    )
    op.drop_constraint("pk_ranking_markers", "ranking_markers", type_="primary")
    op.create_primary_key("pk_ranking_markers", "ranking_markers", ["period_year", "cluster"])
    op.drop_column("ranking_markers", "basis")
