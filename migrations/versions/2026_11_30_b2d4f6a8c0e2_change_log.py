"""change log: one ordered record of committed changes, for feeds, webhooks and sync

Triggers on the resources (statement-level, with transition tables: one INSERT per statement,
whatever its number of rows) record every change in `change_log` in the changing transaction.
Rows get their `position` only after their transaction and every older one has finished (the
worker's sequencer, iid_worker/data.py `sequence_changes`), so positions are gap-free and a
reader that has read up to a position never misses a row committed later (migration's
docstring in iid_store/changes.py has the argument).

Revision ID: b2d4f6a8c0e2
Revises: a1c3e5f7b9d2
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


class XID8(sa.types.UserDefinedType):  # type: ignore[type-arg]
    """PostgreSQL's 64-bit transaction id (no SQLAlchemy type of its own)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


revision: str = "b2d4f6a8c0e2"
down_revision: str | None = "a1c3e5f7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = (
    "INSERT INTO change_log (kind, action, period_year, region_code, agency_id, object_id, data)"
)

# function name -> body (PL/pgSQL); each reads the statement's transition tables new_rows
# (INSERT, UPDATE) and old_rows (UPDATE, DELETE)
FUNCTIONS = {
    "change_log_innovation": f"""
        {_INSERT}
        SELECT 'innovation',
               CASE WHEN TG_OP = 'INSERT' THEN 'created'
                    WHEN n.deleted_at IS NOT NULL THEN 'deleted' ELSE 'updated' END,
               n.period_year, n.region_code, n.agency_id, n.id::text,
               jsonb_build_object('public_id', n.innovation_id, 'version', n.version,
                                  'status', n.status, 'review_state', n.review_state)
        FROM new_rows n;""",
    "change_log_spd_answer": f"""
        {_INSERT}
        SELECT 'spd_answer', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
               n.period_year, n.region_code, NULL, n.id::text,
               jsonb_build_object('indicator', n.indicator, 'version', n.version)
        FROM new_rows n;""",
    "change_log_sid_answer": f"""
        {_INSERT}
        SELECT 'sid_answer', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
               e.period_year, e.region_code, e.agency_id, n.id::text,
               jsonb_build_object('indicator', n.indicator, 'version', n.version,
                                  'innovation_id', n.entry_id)
        FROM new_rows n JOIN innovation_entries e ON e.id = n.entry_id;""",
    "change_log_decision": f"""
        {_INSERT}
        SELECT 'decision', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
               coalesce(s.period_year, e.period_year), coalesce(s.region_code, e.region_code),
               e.agency_id, n.id::text,
               jsonb_build_object('aspect', CASE WHEN s.id IS NULL THEN 'sid' ELSE 'spd' END,
                                  'answer_id', coalesce(s.id, a.id),
                                  'indicator', coalesce(s.indicator, a.indicator),
                                  'innovation_id', a.entry_id, 'decision', n.decision)
        FROM new_rows n
        LEFT JOIN spd_answers s ON s.id = n.spd_answer_id
        LEFT JOIN sid_answers a ON a.id = n.sid_answer_id
        LEFT JOIN innovation_entries e ON e.id = a.entry_id;""",
    "change_log_rejection": f"""
        IF TG_OP = 'DELETE' THEN
            {_INSERT}
            SELECT 'rejection', 'deleted', e.period_year, e.region_code, e.agency_id,
                   o.entry_id::text, jsonb_build_object('innovation_id', o.entry_id)
            FROM old_rows o JOIN innovation_entries e ON e.id = o.entry_id;
        ELSE
            {_INSERT}
            SELECT 'rejection', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'updated' END,
                   e.period_year, e.region_code, e.agency_id, n.entry_id::text,
                   jsonb_build_object('innovation_id', n.entry_id)
            FROM new_rows n JOIN innovation_entries e ON e.id = n.entry_id;
        END IF;""",
    "change_log_evidence": f"""
        {_INSERT}
        SELECT 'evidence',
               CASE WHEN TG_OP = 'INSERT' THEN 'created'
                    WHEN n.deleted_at IS NOT NULL THEN 'deleted' ELSE 'updated' END,
               coalesce(s.period_year, e.period_year), coalesce(s.region_code, e.region_code),
               e.agency_id, n.id::text,
               jsonb_build_object('aspect', CASE WHEN s.id IS NULL THEN 'sid' ELSE 'spd' END,
                                  'answer_id', coalesce(s.id, a.id),
                                  'indicator', coalesce(s.indicator, a.indicator),
                                  'innovation_id', a.entry_id, 'kind', n.kind)
        FROM new_rows n
        LEFT JOIN spd_answers s ON s.id = n.spd_answer_id
        LEFT JOIN sid_answers a ON a.id = n.sid_answer_id
        LEFT JOIN innovation_entries e ON e.id = a.entry_id;""",
    # only scorecards whose index or rating changed: a recompute that moved nothing is silent
    "change_log_scorecard": f"""
        IF TG_OP = 'INSERT' THEN
            {_INSERT}
            SELECT 'scorecard', 'created', n.period_year, n.region_code, NULL,
                   n.period_year || '/' || n.region_code || '/' || n.basis,
                   jsonb_build_object('basis', n.basis, 'index', n.index::text,
                                      'rating', n.rating, 'generation', n.generation)
            FROM new_rows n;
        ELSE
            {_INSERT}
            SELECT 'scorecard', 'updated', n.period_year, n.region_code, NULL,
                   n.period_year || '/' || n.region_code || '/' || n.basis,
                   jsonb_build_object('basis', n.basis, 'index', n.index::text,
                                      'rating', n.rating, 'generation', n.generation)
            FROM new_rows n JOIN old_rows o USING (period_year, region_code, basis)
            WHERE (n.index, n.rating) IS DISTINCT FROM (o.index, o.rating);
        END IF;""",
    # one change per cluster and basis whose ranking a statement rewrote
    "change_log_ranking": f"""
        IF TG_OP = 'DELETE' THEN
            {_INSERT}
            SELECT DISTINCT 'ranking', 'updated', o.period_year, NULL::varchar, NULL::uuid,
                   o.period_year || '/' || o.cluster || '/' || o.basis,
                   jsonb_build_object('cluster', o.cluster, 'basis', o.basis)
            FROM old_rows o;
        ELSE
            {_INSERT}
            SELECT DISTINCT 'ranking', 'updated', n.period_year, NULL::varchar, NULL::uuid,
                   n.period_year || '/' || n.cluster || '/' || n.basis,
                   jsonb_build_object('cluster', n.cluster, 'basis', n.basis)
            FROM new_rows n;
        END IF;""",
    "change_log_period": f"""
        IF TG_OP = 'INSERT' THEN
            {_INSERT}
            SELECT 'period', 'created', n.year, NULL, NULL, n.year::text,
                   jsonb_build_object('status', n.status)
            FROM new_rows n;
        ELSE
            {_INSERT}
            SELECT 'period', 'status_changed', n.year, NULL, NULL, n.year::text,
                   jsonb_build_object('status', n.status, 'previous_status', o.status)
            FROM new_rows n JOIN old_rows o USING (year)
            WHERE n.status IS DISTINCT FROM o.status;
        END IF;""",
}

# (table, function, events with transition tables)
TRIGGERS = (
    ("innovation_entries", "change_log_innovation", ("INSERT", "UPDATE")),
    ("spd_answers", "change_log_spd_answer", ("INSERT", "UPDATE")),
    ("sid_answers", "change_log_sid_answer", ("INSERT", "UPDATE")),
    ("verification_decisions", "change_log_decision", ("INSERT", "UPDATE")),
    ("innovation_rejections", "change_log_rejection", ("INSERT", "UPDATE", "DELETE")),
    ("evidence", "change_log_evidence", ("INSERT", "UPDATE")),
    ("scorecards", "change_log_scorecard", ("INSERT", "UPDATE")),
    ("rankings", "change_log_ranking", ("INSERT", "UPDATE", "DELETE")),
    ("periods", "change_log_period", ("INSERT", "UPDATE")),
)


def _referencing(event: str) -> str:
    return {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
    }[event]


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("txid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("period_year", sa.SmallInteger(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("agency_id", sa.UUID(), nullable=True),
        sa.Column("object_id", sa.String(length=80), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sequenced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
        sa.UniqueConstraint("position", name=op.f("uq_change_log_position")),
    )
    op.create_index(
        "ix_change_log_unsequenced",
        "change_log",
        ["id"],
        postgresql_where=sa.text("position IS NULL"),
    )
    op.create_index("ix_change_log_region_position", "change_log", ["region_code", "position"])
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body} RETURN NULL; END $$"
        )
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(
                f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}"
                f" {_referencing(event)} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    # the worker sequences new changes when woken
    op.execute(
        "CREATE TRIGGER notify_iid_work AFTER INSERT ON change_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION notify_iid_work()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER notify_iid_work ON change_log")
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(f"DROP TRIGGER {function}_{event.lower()} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("change_log")
