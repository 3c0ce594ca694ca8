"""audit log append-only, registration number sequence

Revision ID: b7a1f0c2d9e3
Revises: e4dc91d6d3a4
Create Date: 2026-11-23 16:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7a1f0c2d9e3"
down_revision: str | None = "e4dc91d6d3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The audit trail is evidence: the database itself refuses to rewrite or erase it.
    op.execute(
        """
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only
        BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()
        """
    )
    op.execute("CREATE SEQUENCE innovation_registration_seq")


def downgrade() -> None:
    op.execute("DROP SEQUENCE innovation_registration_seq")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_is_append_only()")
