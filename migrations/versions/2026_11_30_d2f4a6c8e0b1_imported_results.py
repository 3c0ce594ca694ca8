"""imported results: the published results of the years before the service

One row per region and year, on the scale of its year (a 0-100 index from 2021 on, a raw sum
of scores before), with the rating, cluster, rank, innovations and agencies taking part where
they were published. `POST /v1/history/imports` writes them; the region history shows them
beside the computed periods.

Revision ID: d2f4a6c8e0b1
Revises: c9d1e3f5a7b9
Create Date: 2026-11-30 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d2f4a6c8e0b1"
down_revision: str | None = "c9d1e3f5a7b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATINGS = "'sangat_inovatif', 'inovatif', 'kurang_inovatif', 'tidak_dapat_dinilai'"
CLUSTERS = "'provinsi', 'kabupaten', 'kota', 'tertinggal', 'perbatasan', 'papua'"


def upgrade() -> None:
    op.create_table(
        "imported_results",
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("scale", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("cluster", sa.String(length=16), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("innovations", sa.Integer(), nullable=True),
        sa.Column("agencies_taking_part", sa.Integer(), nullable=True),
        sa.Column("import_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_imported_results_year")),
        sa.CheckConstraint(
            "scale IN ('index_0_100', 'raw_sum')", name=op.f("ck_imported_results_scale")
        ),
        sa.CheckConstraint(
            "score >= 0 AND (scale <> 'index_0_100' OR score <= 100)",
            name=op.f("ck_imported_results_score_on_scale"),
        ),
        sa.CheckConstraint(
            f"rating IS NULL OR rating IN ({RATINGS})", name=op.f("ck_imported_results_rating")
        ),
        sa.CheckConstraint(
            f"cluster IS NULL OR cluster IN ({CLUSTERS})",
            name=op.f("ck_imported_results_cluster"),
        ),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_imported_results_rank_positive")),
        sa.CheckConstraint("innovations >= 0", name=op.f("ck_imported_results_innovations")),
        sa.CheckConstraint(
            "agencies_taking_part >= 0", name=op.f("ck_imported_results_agencies_taking_part")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_imported_results_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint("region_code", "year", name=op.f("pk_imported_results")),
    )


def downgrade() -> None:
    op.drop_table("imported_results")
