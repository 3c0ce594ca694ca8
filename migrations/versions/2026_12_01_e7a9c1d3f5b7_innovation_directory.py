"""the public innovation directory: Indonesian search, scores, recognitions, replications

`innovation_entries` gets the directory's full text (`search_vector` of the name, goal,
benefit and result, generated with the `indonesian` text search configuration), whether the
region keeps the design text internal,
and whether the entry had evidence when it was sent; GIN indexes on the text and on name
trigrams (pg_trgm), a btree for the newest and a covering one for facets, all over sent
entries only. `region_settings.public_early`: a region's sent
innovations are public before the period is published. `directory_scores` holds each entry's
verified points, copied by a trigger from the verified scorecards the worker writes.
`innovation_recognitions` and `innovation_replications` are recorded by regions. The feed's
changes are change log rows of kind `directory`, with their own partial index.

Revision ID: e7a9c1d3f5b7
Revises: d5f7b9c1e3a5
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e7a9c1d3f5b7"
down_revision: str | None = "d5f7b9c1e3a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENT_AND_LIVE = "status = 'sent' AND deleted_at IS NULL"
SEARCH_VECTOR = (
    "setweight(to_tsvector('indonesian'::regconfig, name), 'A')"
    " || setweight(to_tsvector('indonesian'::regconfig, goal || ' ' || benefit), 'B')"
    " || setweight(to_tsvector('indonesian'::regconfig, result), 'C')"
)
# the verified scorecards' innovations and their points
COPY_SCORES = """
    INSERT INTO directory_scores (entry_id, points)
    SELECT e.id, (item->>'points')::numeric
    FROM new_rows n
    CROSS JOIN LATERAL json_array_elements(n.payload->'innovations') AS item
    JOIN innovation_entries e ON e.id = (item->>'id')::uuid
    WHERE n.basis = 'verified'
    ON CONFLICT (entry_id) DO UPDATE SET points = EXCLUDED.points
    WHERE directory_scores.points IS DISTINCT FROM EXCLUDED.points;"""
TRIGGERS = {
    "directory_scores_insert": "INSERT",
    "directory_scores_update": "UPDATE",
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "innovation_entries",
        sa.Column("design_internal", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "innovation_entries",
        sa.Column("has_evidence", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "innovation_entries",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR, persisted=True),
            nullable=True,
        ),
    )
    # entries sent before this revision: whether they had evidence then is what they have now
    op.execute(
        "UPDATE innovation_entries e SET has_evidence = true WHERE status = 'sent' AND EXISTS ("
        " SELECT 1 FROM sid_answers a JOIN evidence v ON v.sid_answer_id = a.id"
        " WHERE a.entry_id = e.id AND v.deleted_at IS NULL)"
    )
    op.create_index(
        "ix_innovation_entries_search",
        "innovation_entries",
        ["search_vector"],
        postgresql_using="gin",
        postgresql_where=sa.text(SENT_AND_LIVE),
    )
    op.create_index(
        "ix_innovation_entries_name_trigram",
        "innovation_entries",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
        postgresql_where=sa.text(SENT_AND_LIVE),
    )
    op.create_index(
        "ix_innovation_entries_sent",
        "innovation_entries",
        ["sent_at", "id"],
        postgresql_where=sa.text(SENT_AND_LIVE),
    )
    op.create_index(
        "ix_innovation_entries_facets",
        "innovation_entries",
        ["period_year", "region_code"],
        postgresql_include=[
            "stage",
            "form",
            "kind",
            "initiator",
            "theme",
            "urusan",
            "has_evidence",
        ],
        postgresql_where=sa.text(SENT_AND_LIVE),
    )
    op.add_column(
        "region_settings",
        sa.Column("public_early", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "ix_change_log_directory_position",
        "change_log",
        ["position"],
        postgresql_where=sa.text("kind = 'directory' AND position IS NOT NULL"),
    )
    op.create_table(
        "directory_scores",
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("points", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["innovation_entries.id"],
            name=op.f("fk_directory_scores_entry_id_innovation_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_directory_scores")),
    )
    op.create_table(
        "innovation_recognitions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("innovation_id", sa.UUID(), nullable=False),
        sa.Column("awarding_body", sa.String(length=200), nullable=False),
        sa.Column("award", sa.String(length=200), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("rank", sa.String(length=60), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_innovation_recognitions_year")
        ),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_innovation_recognitions_innovation_id_innovations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_innovation_recognitions")),
    )
    op.create_index(
        op.f("ix_innovation_recognitions_innovation_id"),
        "innovation_recognitions",
        ["innovation_id"],
    )
    op.create_table(
        "innovation_replications",
        sa.Column("innovation_id", sa.UUID(), nullable=False),
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "innovation_id <> source_id", name=op.f("ck_innovation_replications_not_itself")
        ),
        sa.ForeignKeyConstraint(
            ["innovation_id"],
            ["innovations.id"],
            name=op.f("fk_innovation_replications_innovation_id_innovations"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["innovations.id"],
            name=op.f("fk_innovation_replications_source_id_innovations"),
        ),
        sa.PrimaryKeyConstraint(
            "innovation_id", "source_id", name=op.f("pk_innovation_replications")
        ),
    )
    op.create_index(
        op.f("ix_innovation_replications_source_id"), "innovation_replications", ["source_id"]
    )
    op.execute(
        "CREATE FUNCTION directory_scores_copy() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {COPY_SCORES} RETURN NULL; END $$"
    )
    for trigger, event in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {event} ON scorecards"
            " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
            " EXECUTE FUNCTION directory_scores_copy()"
        )
    # what verified scorecards already say
    op.execute(COPY_SCORES.replace("FROM new_rows n", "FROM scorecards n"))


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON scorecards")
    op.execute("DROP FUNCTION directory_scores_copy()")
    op.drop_index(
        op.f("ix_innovation_replications_source_id"), table_name="innovation_replications"
    )
    op.drop_table("innovation_replications")
    op.drop_index(
        op.f("ix_innovation_recognitions_innovation_id"), table_name="innovation_recognitions"
    )
    op.drop_table("innovation_recognitions")
    op.drop_table("directory_scores")
    op.drop_index("ix_change_log_directory_position", table_name="change_log")
    op.drop_column("region_settings", "public_early")
    op.drop_index("ix_innovation_entries_facets", table_name="innovation_entries")
    op.drop_index("ix_innovation_entries_sent", table_name="innovation_entries")
    op.drop_index("ix_innovation_entries_name_trigram", table_name="innovation_entries")
    op.drop_index("ix_innovation_entries_search", table_name="innovation_entries")
    op.drop_column("innovation_entries", "search_vector")
    op.drop_column("innovation_entries", "has_evidence")
    op.drop_column("innovation_entries", "design_internal")
