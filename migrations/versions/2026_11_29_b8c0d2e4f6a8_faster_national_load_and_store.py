"""faster national load and store: covering SID answer index, json lz4 scorecard payloads

The worker's full recompute reads every SID answer through the (entry_id, indicator) index;
with the level included it is an index-only scan (a quarter less PostgreSQL time on a national
load). Scorecard payloads (~12 kB each) become json, stored as given, instead of jsonb, which
PostgreSQL converted on every write and nothing queries, and are compressed with lz4 instead
of pglz: storing a nation's 1,092 payloads took 230 ms of server time, now 70 ms. lz4 needs a
server built with it (every PGDG and Debian build is); without it the default stays.

Revision ID: b8c0d2e4f6a8
Revises: a7b9c1d3e5f7
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8c0d2e4f6a8"
down_revision: str | None = "a7b9c1d3e5f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE = "uq_sid_answers_entry_id_indicator"


def _payload_compression(method: str) -> None:
    # plain SQL, so that `alembic upgrade --sql` can write it out too
    op.execute(
        "DO $$ BEGIN"
        " IF 'lz4' = ANY((SELECT enumvals FROM pg_settings"
        " WHERE name = 'default_toast_compression')::text[]) THEN"
        f" ALTER TABLE scorecards ALTER COLUMN payload SET COMPRESSION {method};"
        " END IF; END $$"
    )


def upgrade() -> None:
    op.drop_constraint(UNIQUE, "sid_answers", type_="unique")
    op.create_index(
        UNIQUE, "sid_answers", ["entry_id", "indicator"], unique=True, postgresql_include=["level"]
    )
    # rows stored before keep pglz until their next recompute rewrites them
    op.execute("ALTER TABLE scorecards ALTER COLUMN payload TYPE json USING payload::json")
    _payload_compression("lz4")


def downgrade() -> None:
    _payload_compression("DEFAULT")
    op.execute("ALTER TABLE scorecards ALTER COLUMN payload TYPE jsonb USING payload::jsonb")
    op.drop_index(UNIQUE, table_name="sid_answers")
    op.create_unique_constraint(UNIQUE, "sid_answers", ["entry_id", "indicator"])
