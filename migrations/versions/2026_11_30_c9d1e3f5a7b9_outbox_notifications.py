"""outbox notifications, and innovation dates in order

NOTIFY on committed work and on changes cached by the API.

Writing an outbox row (a recompute or ranking marker, a full recompute run) notifies the
worker on channel `iid_work`; changing what API processes cache (who a credential belongs to,
periods, editions) notifies them on channel `iid_cache` with the table's name. PostgreSQL
delivers a notification only when its transaction commits, so the hand-off needs no step after
the commit, and a rollback sends nothing. The triggers are per statement: a save that bumps one
marker sends one notification, and so does a full recompute marking a nation.

An innovation's dates are in order (trial, implementation, development) as a CHECK: a one-
statement PATCH cannot read the dates it does not change, so the database checks the merge.

Revision ID: c9d1e3f5a7b9
Revises: b8c0d2e4f6a8
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c9d1e3f5a7b9"
down_revision: str | None = "b8c0d2e4f6a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, events, channel): the events that change what the channel's listeners act on
TRIGGERS = (
    ("recompute_markers", "INSERT OR UPDATE", "iid_work"),
    ("ranking_markers", "INSERT OR UPDATE", "iid_work"),
    ("recompute_runs", "INSERT", "iid_work"),
    ("users", "UPDATE OF active, role, region_code, agency_id OR DELETE OR TRUNCATE", "iid_cache"),
    ("refresh_families", "UPDATE OF revoked_at OR DELETE OR TRUNCATE", "iid_cache"),
    (
        "api_keys",
        "UPDATE OF revoked_at, expires_at, role, region_code, agency_id OR DELETE OR TRUNCATE",
        "iid_cache",
    ),
    ("periods", "INSERT OR UPDATE OR DELETE OR TRUNCATE", "iid_cache"),
    ("editions", "UPDATE OR DELETE OR TRUNCATE", "iid_cache"),
    ("regions", "UPDATE OR DELETE OR TRUNCATE", "iid_cache"),
)


# name -> condition (the naming convention prefixes ck_innovation_entries_)
DATE_ORDER = {
    "implemented_after_trial": "implemented_on >= trial_on",
    "developed_after_implemented": "developed_on >= implemented_on",
}


def upgrade() -> None:
    for name, condition in DATE_ORDER.items():
        op.create_check_constraint(
            op.f(f"ck_innovation_entries_{name}"), "innovation_entries", condition
        )
    for channel in ("iid_work", "iid_cache"):
        op.execute(
            f"CREATE FUNCTION notify_{channel}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN PERFORM pg_notify('{channel}', TG_TABLE_NAME); RETURN NULL; END $$"
        )
    for table, events, channel in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER notify_{channel} AFTER {events} ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION notify_{channel}()"
        )


def downgrade() -> None:
    for name in DATE_ORDER:
        op.drop_constraint(
            op.f(f"ck_innovation_entries_{name}"), "innovation_entries", type_="check"
        )
    for table, _, channel in TRIGGERS:
        op.execute(f"DROP TRIGGER notify_{channel} ON {table}")
    for channel in ("iid_work", "iid_cache"):
        op.execute(f"DROP FUNCTION notify_{channel}()")
