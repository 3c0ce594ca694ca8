"""scorecard snapshots, rankings and recompute jobs

Revision ID: c3d5e7f9a1b2
Revises: b7a1f0c2d9e3
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "c3d5e7f9a1b2"
down_revision: str | None = "b7a1f0c2d9e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
