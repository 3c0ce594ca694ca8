"""levels from the edition: answers and lowered levels checked only for level >= 0

The level scale is the edition's (0..3 in iid-2023 and iid-2026, 0..top for an edition whose
indicators list more levels), so the database no longer hard-codes 0..3 for answers nor 0..2
for a verifier's lowered level: it keeps what it can know on its own (no negative level); the
API checks a level against the period's edition, and a lowered level against the claim.
sid_answers gets its own constraint name (it carried spd_answers' name by mistake).

Downgrade restores the 0..3 and 0..2 checks; it fails while a row holds a level above them.

Revision ID: 8264a5a9e956
Revises: d2f4a6c8e0b1
Create Date: 2026-11-30 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8264a5a9e956"
down_revision: str | None = "d2f4a6c8e0b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOWERED = "ck_verification_decisions_lowered_level"
LOWERED_RULE = "(decision = 'lower') = (level IS NOT NULL) AND (level IS NULL OR {range})"


def _answer_checks(old_sid_name: str, new_sid_name: str, rule: str) -> None:
    # op.f: the names are final, not run through the metadata's naming convention again
    op.drop_constraint(op.f("ck_spd_answers_level"), "spd_answers", type_="check")
    op.create_check_constraint(op.f("ck_spd_answers_level"), "spd_answers", rule)
    op.drop_constraint(op.f(old_sid_name), "sid_answers", type_="check")
    op.create_check_constraint(op.f(new_sid_name), "sid_answers", rule)


def _lowered_check(level_range: str) -> None:
    op.drop_constraint(op.f(LOWERED), "verification_decisions", type_="check")
    op.create_check_constraint(
        op.f(LOWERED), "verification_decisions", LOWERED_RULE.format(range=level_range)
    )


def upgrade() -> None:
    _answer_checks("ck_spd_answers_level", "ck_sid_answers_level", "level >= 0")
    _lowered_check("level >= 0")


def downgrade() -> None:
    _answer_checks("ck_sid_answers_level", "ck_spd_answers_level", "level BETWEEN 0 AND 3")
    _lowered_check("level BETWEEN 0 AND 2")
