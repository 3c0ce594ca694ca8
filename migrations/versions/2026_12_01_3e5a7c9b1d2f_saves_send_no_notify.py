"""saves send no NOTIFY: the worker looks for dirty regions and unnumbered changes instead

A NOTIFY per save (the triggers on recompute_markers and change_log) woke every listening
backend and took PostgreSQL's global notification lock at each commit: under the deadline
rush a large share of the database's CPU for a save, and commits serialised behind it. The
worker's drain now asks every 0.2 s whether a marker or an unnumbered change is waiting (one
query on two indexes); the rarer work (queued runs, ranking and uncertainty markers, exports)
keeps its notification.

Revision ID: 3e5a7c9b1d2f
Revises: 1c48eeab637c
Create Date: 2026-12-01 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3e5a7c9b1d2f"
down_revision: str | None = "1c48eeab637c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFYING = {
    "recompute_markers": "AFTER INSERT OR UPDATE",
    "change_log": "AFTER INSERT",
}


def upgrade() -> None:
    for table in NOTIFYING:
        op.execute(f"DROP TRIGGER notify_iid_work ON {table}")


def downgrade() -> None:
    for table, when in NOTIFYING.items():
        op.execute(
            f"CREATE TRIGGER notify_iid_work {when} ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION notify_iid_work()"
        )
