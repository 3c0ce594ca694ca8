"""exports made by the worker, webhook subscriptions and deliveries

`exports`: a spreadsheet requested with POST /v1/exports. The row is the hand-off (`queued`; its
INSERT notifies `iid_work`, like a queued full recompute run); when the worker has stored the file
(`done`) a trigger records an `export` change (action `ready`) in the change log, from which
the `export.ready` webhook event is derived like every other event.

`webhook_subscriptions`, `webhook_deliveries` and the dispatcher's `webhook_cursor` (it starts at
the change log's end: subscriptions only receive changes made after they were created).

An innovation moved to another agency is also recorded as a change of the agency it left
(action `moved`, with that agency), so that a reader limited to one agency (the sync feed of an
agency operator) learns that the innovation is no longer its own.

Revision ID: d5f7b9c1e3a5
Revises: c3e5a7c9e1f4
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d5f7b9c1e3a5"
down_revision: str | None = "c3e5a7c9e1f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = (
    "INSERT INTO change_log (kind, action, period_year, region_code, agency_id, object_id, data)"
)
FUNCTIONS = {
    # an export the worker finished: the export.ready event
    "change_log_export_ready": f"""
        {_INSERT}
        SELECT 'export', 'ready', n.period_year, n.region_code, NULL, n.id::text,
               jsonb_build_object('what', n.what, 'format', n.format)
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE n.status = 'done' AND o.status <> 'done';""",
    # the agency an innovation left (the `updated` row names the new one)
    "change_log_innovation_moved": f"""
        {_INSERT}
        SELECT 'innovation', 'moved', n.period_year, n.region_code, o.agency_id, n.id::text,
               jsonb_build_object('public_id', n.innovation_id, 'version', n.version,
                                  'status', n.status, 'review_state', n.review_state)
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE n.agency_id <> o.agency_id;""",
}
_UPDATE_ROWS = "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
TRIGGERS = {
    "notify_iid_work": "AFTER INSERT ON exports FOR EACH STATEMENT EXECUTE FUNCTION notify_iid_work()",
    "change_log_export_ready_update": (
        f"AFTER UPDATE ON exports {_UPDATE_ROWS} EXECUTE FUNCTION change_log_export_ready()"
    ),
    # named to fire before change_log_innovation_update (same event: alphabetical order), so
    # the agency left sees its row first
    "change_log_innovation_moved_update": (
        f"AFTER UPDATE ON innovation_entries {_UPDATE_ROWS}"
        " EXECUTE FUNCTION change_log_innovation_moved()"
    ),
}


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("what", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("delimiter", sa.String(length=1), server_default=",", nullable=False),
        sa.Column("csv_table", sa.String(length=40), nullable=True),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("period_year", sa.SmallInteger(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requester_role", sa.String(length=20), nullable=False),
        sa.Column("requester_region", sa.String(length=8), nullable=True),
        sa.Column("requester_agency", sa.UUID(), nullable=True),
        sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("delimiter IN (',', ';')", name=op.f("ck_exports_delimiter")),
        sa.CheckConstraint("format IN ('csv', 'xlsx')", name=op.f("ck_exports_format")),
        sa.CheckConstraint(
            "requester_role IN ('national_admin', 'verifier', 'region_admin', 'agency_operator', 'viewer')",
            name=op.f("ck_exports_requester_role"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'expired')",
            name=op.f("ck_exports_status"),
        ),
        sa.CheckConstraint(
            "what IN ('rankings', 'scorecard', 'completeness', 'verification', 'innovations', 'audit')",
            name=op.f("ck_exports_what"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index(
        "ix_exports_requested_by", "exports", ["requested_by", "requested_at"], unique=False
    )
    op.create_index("ix_exports_status", "exports", ["status", "expires_at"], unique=False)
    op.create_table(
        "webhook_cursor",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_webhook_cursor")),
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("starts_after", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(paused_at IS NULL) = (paused_reason IS NULL)",
            name=op.f("ck_webhook_subscriptions_paused_reason"),
        ),
        sa.CheckConstraint(
            "cardinality(event_types) >= 1",
            name=op.f("ck_webhook_subscriptions_event_types_present"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_webhook_subscriptions_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_region_code"),
        "webhook_subscriptions",
        ["region_code"],
        unique=False,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("ordering_key", sa.String(length=8), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("once_key", sa.String(length=120), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event_type IN ('scorecard.changed', 'innovation.sent', 'verification.decided', 'ranking.changed', 'period.status_changed', 'export.ready')",
            name=op.f("ck_webhook_deliveries_event_type"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id",
            "position",
            name=op.f("uq_webhook_deliveries_subscription_id_position"),
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["subscription_id", "ordering_key", "position"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_created",
        "webhook_deliveries",
        ["subscription_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "uq_webhook_deliveries_once",
        "webhook_deliveries",
        ["subscription_id", "once_key"],
        unique=True,
        postgresql_where=sa.text("once_key IS NOT NULL"),
    )

    op.execute(
        "INSERT INTO webhook_cursor (name, position)"
        " SELECT 'dispatch', coalesce(max(position), 0) FROM change_log"
    )
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body} RETURN NULL; END $$"
        )
    for trigger, definition in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {trigger} {definition}")


def downgrade() -> None:
    for trigger, definition in TRIGGERS.items():
        table = definition.split(" ON ")[1].split()[0]
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_index(
        "uq_webhook_deliveries_once",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("once_key IS NOT NULL"),
    )
    op.drop_index("ix_webhook_deliveries_subscription_created", table_name="webhook_deliveries")
    op.drop_index(
        "ix_webhook_deliveries_pending",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhook_subscriptions_region_code"), table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
    op.drop_table("webhook_cursor")
    op.drop_index("ix_exports_status", table_name="exports")
    op.drop_index("ix_exports_requested_by", table_name="exports")
    op.drop_table("exports")
