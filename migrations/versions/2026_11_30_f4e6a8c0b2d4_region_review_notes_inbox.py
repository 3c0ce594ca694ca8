"""the region's own review before sending: review states, settings, notes, an inbox, e-mail

An innovation entry gets a `review_state` beside its `status` (draft -> submitted -> returned
| approved, before it is sent); a region may switch the approval requirement off
(`region_settings`); notes form a thread per innovation (`innovation_notes`); inbox items are
addressed to a region's admins or an agency's operators, with per-user read marks
(`inbox_items`, `inbox_reads`); the worker delivers e-mail from an outbox (`email_outbox`).
Existing entries start as `draft`: from this revision on, a region that keeps the requirement
approves its drafts before sending them.

Revision ID: f4e6a8c0b2d4
Revises: e3a5c7e9f1b3
Create Date: 2026-11-30 10:33:29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f4e6a8c0b2d4"
down_revision: str | None = "e3a5c7e9f1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "region_settings",
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("review_required", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_region_settings_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("region_code", name=op.f("pk_region_settings")),
    )
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=True),
        sa.Column("period_year", sa.SmallInteger(), nullable=True),
        sa.Column("entry_id", sa.UUID(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("mailed_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(audience = 'agency_operator') = (agency_id IS NOT NULL)",
            name=op.f("ck_inbox_items_audience_agency"),
        ),
        sa.CheckConstraint(
            "audience IN ('region_admin', 'agency_operator')", name=op.f("ck_inbox_items_audience")
        ),
        sa.CheckConstraint(
            "kind IN ('submitted', 'withdrawn', 'returned', 'approved', 'note', 'decided', 'deadline')",
            name=op.f("ck_inbox_items_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_inbox_items_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["innovation_entries.id"],
            name=op.f("fk_inbox_items_entry_id_innovation_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["period_year"], ["periods.year"], name=op.f("fk_inbox_items_period_year_periods")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_inbox_items_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("key", name=op.f("uq_inbox_items_key")),
    )
    op.create_index(
        "ix_inbox_items_agency", "inbox_items", ["agency_id", "updated_at"], unique=False
    )
    op.create_index(
        "ix_inbox_items_region_audience",
        "inbox_items",
        ["region_code", "audience", "updated_at"],
        unique=False,
    )
    op.create_table(
        "innovation_notes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.Column("indicator", sa.String(length=8), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("review_action", sa.String(length=10), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "review_action IS NULL OR review_action IN ('submit', 'withdraw', 'return', 'approve')",
            name=op.f("ck_innovation_notes_review_action"),
        ),
        sa.CheckConstraint(
            "indicator IS NULL OR field IS NULL", name=op.f("ck_innovation_notes_one_target")
        ),
        sa.CheckConstraint("length(text) > 0", name=op.f("ck_innovation_notes_text_present")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["innovation_entries.id"],
            name=op.f("fk_innovation_notes_entry_id_innovation_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_innovation_notes")),
    )
    op.create_index(
        "ix_innovation_notes_entry_created",
        "innovation_notes",
        ["entry_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inbox_items.id"],
            name=op.f("fk_email_outbox_item_id_inbox_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
        sa.UniqueConstraint(
            "item_id", "revision", "address", name=op.f("uq_email_outbox_item_id_revision_address")
        ),
    )
    op.create_index(
        "ix_email_outbox_pending",
        "email_outbox",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox_reads",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "read_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inbox_items.id"],
            name=op.f("fk_inbox_reads_item_id_inbox_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inbox_reads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "item_id", name=op.f("pk_inbox_reads")),
    )
    op.create_index(op.f("ix_inbox_reads_item_id"), "inbox_reads", ["item_id"], unique=False)
    op.add_column(
        "innovation_entries",
        sa.Column("review_state", sa.String(length=10), server_default="draft", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_innovation_entries_review_state"),
        "innovation_entries",
        "review_state IN ('draft', 'submitted', 'returned', 'approved')",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_innovation_entries_review_state"), "innovation_entries", type_="check"
    )
    op.drop_column("innovation_entries", "review_state")
    op.drop_index(op.f("ix_inbox_reads_item_id"), table_name="inbox_reads")
    op.drop_table("inbox_reads")
    op.drop_index(
        "ix_email_outbox_pending",
        table_name="email_outbox",
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.drop_table("email_outbox")
    op.drop_index("ix_innovation_notes_entry_created", table_name="innovation_notes")
    op.drop_table("innovation_notes")
    op.drop_index("ix_inbox_items_region_audience", table_name="inbox_items")
    op.drop_index("ix_inbox_items_agency", table_name="inbox_items")
    op.drop_table("inbox_items")
    op.drop_table("region_settings")
