"""rankings notify the API: rendered rankings and summaries are cached per process

The API keeps each ranking page and summary it rendered until the rankings change; the
worker's re-ranking transaction notifies every API process on channel `iid_cache` when it
commits (the function `notify_iid_cache` of revision c9d1e3f5a7b9).

Revision ID: e3a5c7e9f1b3
Revises: 8264a5a9e956
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e3a5c7e9f1b3"
down_revision: str | None = "8264a5a9e956"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER notify_iid_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        " ON rankings FOR EACH STATEMENT EXECUTE FUNCTION notify_iid_cache()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER notify_iid_cache ON rankings")
