"""evidence uploads: detected content type, stored-file checks, live storage-key index

Revision ID: e5f7a9b1c3d5
Revises: d4e6f8a0b2c4
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f7a9b1c3d5"
down_revision: str | None = "d4e6f8a0b2c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHECKS = {
    "file_is_stored": "(kind = 'video_link') <> (storage_key IS NOT NULL AND size_bytes IS NOT "
    "NULL AND content_type IS NOT NULL AND filename IS NOT NULL)",
    "storage_key_sha256": "storage_key ~ '^[0-9a-f]{64}$'",
    "size_positive": "size_bytes > 0",
    "url_https": "url LIKE 'https://%'",
}


def upgrade() -> None:
    op.add_column("evidence", sa.Column("content_type", sa.String(length=100), nullable=True))
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_evidence_{name}"), "evidence", condition)
    op.create_index(
        "ix_evidence_live_storage_key",
        "evidence",
        ["storage_key"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_live_storage_key", table_name="evidence")
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_evidence_{name}"), "evidence", type_="check")
    op.drop_column("evidence", "content_type")
