"""rank uncertainty during verification

The worker's Monte Carlo of the verified outcome (issue 19): the latest run per period, each
region's simulated index and each region's simulated rank per cluster, and an outbox marker
per period.

The marker is written by triggers, in the transaction of the change: any statement on
verification decisions or whole-innovation rejections marks every period that is verifying
(decisions are accepted only then), and a period that starts verifying marks itself. Writing
the marker notifies the worker on `iid_work`, like the other outbox rows; the worker waits for
a quiet moment before it simulates (debounce).

Revision ID: a1c3e5f7b9d2
Revises: f4e6a8c0b2d4
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1c3e5f7b9d2"
down_revision: str | None = "f4e6a8c0b2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLUSTERS = ("provinsi", "kabupaten", "kota", "tertinggal", "perbatasan", "papua")
BUMP = (
    "ON CONFLICT (period_year) DO UPDATE SET"
    " generation = uncertainty_markers.generation + 1, requested_at = now()"
)
DECISION_TABLES = ("verification_decisions", "innovation_rejections")


def _timestamp(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "uncertainty_markers",
        sa.Column("period_year", sa.SmallInteger(), primary_key=True),
        sa.Column("generation", sa.BigInteger(), server_default="1", nullable=False),
        _timestamp("requested_at"),
        _timestamp("first_requested_at"),
        sa.ForeignKeyConstraint(
            ["period_year"],
            ["periods.year"],
            name=op.f("fk_uncertainty_markers_period_year_periods"),
        ),
        sa.PrimaryKeyConstraint("period_year", name=op.f("pk_uncertainty_markers")),
    )
    op.create_table(
        "uncertainty_runs",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("edition_code", sa.String(40), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("decisions_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decisions_counted", sa.Integer(), nullable=False),
        sa.Column("undecided_answers", sa.Integer(), nullable=False),
        sa.Column("undecided_innovations", sa.Integer(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Numeric(10, 3), nullable=False),
        _timestamp("computed_at"),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_uncertainty_runs_period_year_periods")
        ),
        sa.ForeignKeyConstraint(
            ["edition_code"],
            ["editions.code"],
            name=op.f("fk_uncertainty_runs_edition_code_editions"),
        ),
        sa.PrimaryKeyConstraint("period_year", name=op.f("pk_uncertainty_runs")),
    )
    op.create_table(
        "uncertainty_regions",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("region_code", sa.String(8), nullable=False),
        sa.Column("expected_index", sa.Numeric(5, 2), nullable=False),
        sa.Column("index_low", sa.Numeric(5, 2), nullable=False),
        sa.Column("index_high", sa.Numeric(5, 2), nullable=False),
        sa.Column("lowest_index", sa.Numeric(5, 2), nullable=False),
        sa.Column("highest_index", sa.Numeric(5, 2), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("undecided_answers", sa.Integer(), nullable=False),
        sa.Column("undecided_innovations", sa.Integer(), nullable=False),
        sa.Column("impacts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_year"],
            ["uncertainty_runs.period_year"],
            name=op.f("fk_uncertainty_regions_period_year_uncertainty_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_uncertainty_regions_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint("period_year", "region_code", name=op.f("pk_uncertainty_regions")),
    )
    quoted = ", ".join(f"'{c}'" for c in CLUSTERS)
    op.create_table(
        "uncertainty_ranks",
        sa.Column("period_year", sa.SmallInteger(), nullable=False),
        sa.Column("cluster", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(8), nullable=False),
        sa.Column("expected_rank", sa.Numeric(8, 2), nullable=False),
        sa.Column("median_rank", sa.Integer(), nullable=False),
        sa.Column("rank_low", sa.Integer(), nullable=False),
        sa.Column("rank_high", sa.Integer(), nullable=False),
        sa.Column("top_probability", sa.Numeric(5, 4), nullable=False),
        sa.CheckConstraint(f"cluster IN ({quoted})", name=op.f("ck_uncertainty_ranks_cluster")),
        sa.CheckConstraint(
            "rank_low <= median_rank AND median_rank <= rank_high",
            name=op.f("ck_uncertainty_ranks_interval"),
        ),
        sa.ForeignKeyConstraint(
            ["period_year"],
            ["uncertainty_runs.period_year"],
            name=op.f("fk_uncertainty_ranks_period_year_uncertainty_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_uncertainty_ranks_region_code_regions")
        ),
        sa.PrimaryKeyConstraint(
            "period_year", "cluster", "region_code", name=op.f("pk_uncertainty_ranks")
        ),
    )
    op.execute(
        "CREATE TRIGGER notify_iid_work AFTER INSERT OR UPDATE ON uncertainty_markers"
        " FOR EACH STATEMENT EXECUTE FUNCTION notify_iid_work()"
    )
    op.execute(
        "CREATE FUNCTION mark_verifying_periods() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO uncertainty_markers (period_year)"
        f" SELECT year FROM periods WHERE status = 'verifying' {BUMP}; RETURN NULL; END $$"
    )
    for table in DECISION_TABLES:
        op.execute(
            f"CREATE TRIGGER mark_uncertainty AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION mark_verifying_periods()"
        )
    op.execute(
        "CREATE FUNCTION mark_period_starts_verifying() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN INSERT INTO uncertainty_markers (period_year) VALUES (NEW.year) {BUMP};"
        " RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER mark_uncertainty AFTER UPDATE OF status ON periods FOR EACH ROW"
        " WHEN (NEW.status = 'verifying' AND OLD.status IS DISTINCT FROM 'verifying')"
        " EXECUTE FUNCTION mark_period_starts_verifying()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER mark_uncertainty ON periods")
    op.execute("DROP FUNCTION mark_period_starts_verifying()")
    for table in DECISION_TABLES:
        op.execute(f"DROP TRIGGER mark_uncertainty ON {table}")
    op.execute("DROP FUNCTION mark_verifying_periods()")
    for table in ("uncertainty_ranks", "uncertainty_regions", "uncertainty_runs"):
        op.drop_table(table)
    op.drop_table("uncertainty_markers")
