"""scorecard snapshots, rankings and recompute jobs

Revision ID: c3d5e7f9a1b2
Revises: b7a1f0c2d9e3
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c3d5e7f9a1b2"
down_revision: str | None = "b7a1f0c2d9e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ranking_markers",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("cluster", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "first_requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_ranking_markers_period_year_periods")
        ),
        sa.PrimaryKeyConstraint("period_year", "cluster", name=op.f("pk_ranking_markers")),
    )
    op.create_table(
        "rankings",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("cluster", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("index", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("total_score", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("previous_rank", sa.Integer(), nullable=True),
        sa.Column("movement", sa.Integer(), nullable=True),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("basis IN ('claimed', 'verified')", name=op.f("ck_rankings_basis")),
        sa.CheckConstraint(
            "cluster IN ('provinsi', 'kabupaten', 'kota', 'tertinggal', 'perbatasan', 'papua')",
            name=op.f("ck_rankings_cluster"),
        ),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_rankings_period_year_periods")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_rankings_region_code_regions")
        ),
        sa.PrimaryKeyConstraint(
            "period_year", "cluster", "basis", "region_code", name=op.f("pk_rankings")
        ),
    )
    op.create_index(
        "ix_rankings_period_cluster_basis_rank",
        "rankings",
        ["period_year", "cluster", "basis", "rank"],
        unique=False,
    )
    op.create_table(
        "recompute_runs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("regions_total", sa.Integer(), nullable=True),
        sa.Column("regions_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_recompute_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_recompute_runs_period_year_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recompute_runs")),
    )
    op.create_index(
        op.f("ix_recompute_runs_period_year"), "recompute_runs", ["period_year"], unique=False
    )
    op.create_table(
        "scorecards",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("edition_code", sa.String(length=40), nullable=False),
        sa.Column("index", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("total_score", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("undecided_answers", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("basis IN ('claimed', 'verified')", name=op.f("ck_scorecards_basis")),
        sa.ForeignKeyConstraint(
            ["edition_code"], ["editions.code"], name=op.f("fk_scorecards_edition_code_editions")
        ),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_scorecards_period_year_periods")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_scorecards_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("period_year", "region_code", "basis", name=op.f("pk_scorecards")),
    )


def downgrade() -> None:
    op.drop_table("scorecards")
    op.drop_index(op.f("ix_recompute_runs_period_year"), table_name="recompute_runs")
    op.drop_table("recompute_runs")
    op.drop_index("ix_rankings_period_cluster_basis_rank", table_name="rankings")
    op.drop_table("rankings")
    op.drop_table("ranking_markers")
