"""drop the unused index of webhook deliveries by subscription and creation time

No statement filters or sorts deliveries by `created_at`: a subscription's deliveries are
listed newest change first (`position`), which the unique (subscription_id, position)
constraint's index serves, as it serves the cascade when a subscription is deleted. The
dropped index only cost every delivery insert a write.

Revision ID: 1c48eeab637c
Revises: f9b1d3e5a7c9
Create Date: 2026-12-01 06:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1c48eeab637c"
down_revision: str | None = "f9b1d3e5a7c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_webhook_deliveries_subscription_created", table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_subscription_created",
        "webhook_deliveries",
        ["subscription_id", "created_at"],
    )
